// The studio's two languages: one dictionary each, the person's choice kept in localStorage, else the browser's.

import en from './i18n/en.js';
import ko from './i18n/ko.js';

const DICTIONARIES = { en, ko };
const STORAGE_KEY = 'reelflow.studio.language';

function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary in DICTIONARIES) return primary;
  }
  return 'en';
}

export function currentLanguage() {
  const chosen = window.localStorage.getItem(STORAGE_KEY);
  return chosen in DICTIONARIES ? chosen : browserLanguage();
}

export function chooseLanguage(language) {
  window.localStorage.setItem(STORAGE_KEY, language);
  document.documentElement.lang = language;
}

/** The string for key in the current language (English when a key is missing), with {name} filled from vars. */
export function t(key, vars = {}) {
  const language = currentLanguage();
  const text = DICTIONARIES[language][key] ?? DICTIONARIES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const thisYear = date.getFullYear() === new Date().getFullYear();
  const style = thisYear
    ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
    : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(currentLanguage(), style).format(date);
}
