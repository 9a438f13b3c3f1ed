// Building elements without HTML strings: text is always set as text, and every UI string is a dictionary key.

import { t, formatDateTime } from './i18n.js';

/**
 * h('button', {class: 'primary', i18n: 'script.save', on: {click}}, ...children)
 * Props: class, text (user content, not translated), i18n / i18nVars (a dictionary key), i18nAttrs
 * ({placeholder: key}), attrs, dataset, on (event listeners), and plain DOM properties (value, checked, ...).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (name === 'class') element.className = value;
    else if (name === 'text') element.textContent = value;
    else if (name === 'i18n') element.dataset.i18n = value;
    else if (name === 'i18nVars') element.dataset.i18nVars = JSON.stringify(value);
    else if (name === 'i18nAttrs') element.dataset.i18nAttrs = JSON.stringify(value);
    else if (name === 'datetime') element.dataset.datetime = value;
    else if (name === 'attrs') for (const [key, attr] of Object.entries(value)) element.setAttribute(key, attr);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name === 'on') for (const [event, listener] of Object.entries(value)) element.addEventListener(event, listener);
    else element[name] = value;
  }
  append(element, children);
  translateOne(element);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function translateOne(node) {
  if (node.dataset.i18n) {
    const vars = node.dataset.i18nVars ? JSON.parse(node.dataset.i18nVars) : {};
    node.textContent = t(node.dataset.i18n, vars);
  }
  if (node.dataset.i18nAttrs) {
    for (const [attr, key] of Object.entries(JSON.parse(node.dataset.i18nAttrs))) node.setAttribute(attr, t(key));
  }
  if (node.dataset.datetime) node.textContent = formatDateTime(node.dataset.datetime);
}

/** (Re)write every translated string under root (text, attributes, dates) in the current language. */
export function translate(root) {
  translateOne(root);
  for (const node of root.querySelectorAll('[data-i18n], [data-i18n-attrs], [data-datetime]')) translateOne(node);
}

/** Change a translated element's key (and values) and show it at once. */
export function retranslate(element, key, vars) {
  element.dataset.i18n = key;
  if (vars) element.dataset.i18nVars = JSON.stringify(vars);
  else delete element.dataset.i18nVars;
  translateOne(element);
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

/** An error as the API gave it: its code and its message, visibly. */
export function errorBox(error) {
  const code = error && error.code ? error.code : 'ERROR';
  const message = error && typeof error === 'object' ? error.message || '' : String(error);
  const listed = error && error.details && Array.isArray(error.details.problems) ? error.details.problems : [];
  // The message often is the one problem already; list the problems only when they add something.
  const problems = listed.filter((p) => `${p.field}: ${p.problem}` !== message);
  return h(
    'div',
    { class: 'error', attrs: { role: 'alert' } },
    h('strong', { class: 'error-code', text: code }),
    h('span', { class: 'error-message', text: message }),
    problems.length
      ? h('ul', { class: 'error-problems' }, problems.map((p) => h('li', { text: `${p.field}: ${p.problem}` })))
      : null,
  );
}

/** Show an error (or clear it with null) in a slot element. */
export function showError(slot, error) {
  clear(slot);
  if (error) slot.append(errorBox(error));
}

export function loading() {
  return h('p', { class: 'loading', i18n: 'common.loading' });
}

/** Run an action with its button disabled and marked busy, showing any failure in the slot. */
export async function busy(button, slot, action) {
  button.disabled = true;
  button.classList.add('busy');
  if (slot) showError(slot, null);
  try {
    return await action();
  } catch (error) {
    if (slot) showError(slot, error);
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove('busy');
  }
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '–';
  const total = Math.max(0, seconds);
  const minutes = Math.floor(total / 60);
  const rest = total - minutes * 60;
  return `${minutes}:${rest.toFixed(1).padStart(4, '0')}`;
}

export function field(labelKey, control, hintKey) {
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label', i18n: labelKey }),
    control,
    hintKey ? h('span', { class: 'hint', i18n: hintKey }) : null,
  );
}

export function select(options, value) {
  // options: [[value, i18nKey]] ; labels are dictionary keys
  const element = h('select', {}, options.map(([optionValue, key]) => h('option', { value: optionValue, i18n: key })));
  element.value = value;
  return element;
}
