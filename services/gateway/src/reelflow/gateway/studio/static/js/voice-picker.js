// The voice picker: the voices GET /api/voices lists for a language, grouped by provider, and a sample to hear
// (GET /api/voices/sample, espeak-ng's only: a cloud provider's sample would be a paid call per listen).

import { api, getAudio } from './api.js';
import { h, retranslate, showError } from './dom.js';

const PROVIDER_KEYS = {
  espeak: 'voice.provider.espeak',
  openai: 'voice.provider.openai',
  polly: 'voice.provider.polly',
  google: 'voice.provider.google',
};
const OPTION_KEYS = { female: 'voice.option.female', male: 'voice.option.male' };
let pickers = 0;

/** The espeak-ng voice tts speaks a language with when a job names none (the rule of runtime/voice_catalogue.py). */
export function languageDefaultVoice(language) {
  const tag = language.trim().toLowerCase().replaceAll('_', '-');
  const family = tag.split('-')[0];
  if (family === 'en') return { 'en-gb': 'en-gb', 'en-uk': 'en-gb' }[tag] || 'en-us';
  return family;
}

const keyOf = (voice) => `${voice.provider}\u0000${voice.voice.toLowerCase()}`;

/**
 * A select of the language's voices, a "Play sample" button and an <audio> for the sample.
 * `initial` ({provider, voice}) is chosen when the list has it (and added when it does not); else espeak-ng's voice
 * for the language. `optional` puts "No voice" first and chooses it (the ranking short narrates nothing by default).
 */
export function voicePicker({ language, initial = null, optional = false, labelKey = 'options.voice', hintKey = null }) {
  pickers += 1;
  const id = `voice-picker-${pickers}`;
  let voices = [];
  let current = language;
  let loads = 0;
  let sampleUrl = null;
  let wanted = initial && initial.voice ? { provider: initial.provider || 'espeak', voice: initial.voice } : null;
  const choice = h('select', { name: 'voice', class: 'voice-select', id, disabled: true });
  const play = h('button', { type: 'button', class: 'play-sample', i18n: 'voice.play', disabled: true });
  const audio = h('audio', { class: 'voice-sample', controls: true, preload: 'none', hidden: true });
  const status = h('span', { class: 'hint voice-status' });
  const errors = h('div', { class: 'error-slot voice-errors' });

  function chosen() {
    const index = choice.value === '' ? -1 : Number(choice.value);
    return index >= 0 && index < voices.length ? voices[index] : null;
  }

  function showStatus(key, vars) {
    if (key) retranslate(status, key, vars);
    else {
      delete status.dataset.i18n;
      status.textContent = '';
    }
  }

  function refreshPlay() {
    const voice = chosen();
    play.disabled = !voice || voice.provider !== 'espeak';
    if (voice && voice.provider !== 'espeak') showStatus('voice.noCloudSample');
    else if (status.dataset.i18n === 'voice.noCloudSample') showStatus(null);
  }

  function optionFor(voice, index) {
    return h('option', {
      value: String(index),
      i18n: OPTION_KEYS[voice.gender] || 'voice.option',
      i18nVars: { name: voice.name || voice.voice },
      dataset: { provider: voice.provider, voice: voice.voice },
    });
  }

  function fill(listing) {
    // espeak-ng lists some voices under one language code (the mbrola ones); voice.voice can only name the first.
    const seen = new Set();
    voices = listing.voices.filter((voice) => !seen.has(keyOf(voice)) && seen.add(keyOf(voice)));
    if (wanted && !seen.has(keyOf(wanted))) voices.unshift({ ...wanted, language: current, name: wanted.voice, gender: '' });
    const groups = [];
    for (const provider of [...listing.providers, ...voices.map((voice) => voice.provider)]) {
      if (groups.includes(provider) || !voices.some((voice) => voice.provider === provider)) continue;
      groups.push(provider);
    }
    const groupElements = groups.map((provider) =>
      h(
        'optgroup',
        { i18nAttrs: { label: PROVIDER_KEYS[provider] || 'voice.provider.other' }, dataset: { provider } },
        voices.map((voice, index) => (voice.provider === provider ? optionFor(voice, index) : null)),
      ),
    );
    choice.replaceChildren(...(optional ? [h('option', { value: '', i18n: 'voice.none' })] : []), ...groupElements);
    const pick = wanted || (optional ? null : { provider: 'espeak', voice: languageDefaultVoice(current) });
    let index = pick ? voices.findIndex((voice) => keyOf(voice) === keyOf(pick)) : -1;
    if (index < 0 && pick && !optional) index = voices.findIndex((voice) => voice.provider === 'espeak');
    if (index < 0 && !optional && voices.length) index = 0;
    choice.value = index >= 0 ? String(index) : '';
    choice.disabled = !voices.length && !optional;
    if (!voices.length && !optional) showStatus('voice.noneForLanguage');
    else if (!listing.espeak_listed) showStatus('voice.espeakUnlisted');
    else showStatus(null);
    refreshPlay();
  }

  /** List the voices reading `language`, keeping the chosen one when it reads it too. */
  async function setLanguage(next) {
    current = next;
    const load = ++loads;
    const before = chosen();
    if (before) wanted = { provider: before.provider, voice: before.voice };
    choice.disabled = true;
    play.disabled = true;
    showError(errors, null);
    showStatus('voice.loading');
    try {
      const listing = await api.get(`/api/voices?language=${encodeURIComponent(next)}`);
      if (load !== loads) return;
      // A voice kept from another language only stays when it reads this one too (or reads any language).
      if (before && !listing.voices.some((voice) => keyOf(voice) === keyOf(before))) wanted = initialFor(next);
      fill(listing);
    } catch (error) {
      if (load !== loads) return;
      voices = [];
      choice.replaceChildren();
      showStatus(null);
      showError(errors, error);
    }
  }

  // The initial voice is kept for the language it was chosen in; after a language change, the new one's default.
  const initialLanguage = language;
  const initialWanted = wanted;
  function initialFor(next) {
    return next === initialLanguage ? initialWanted : null;
  }

  choice.addEventListener('change', () => {
    const voice = chosen();
    wanted = voice ? { provider: voice.provider, voice: voice.voice } : null;
    showError(errors, null);
    audio.pause();
    refreshPlay();
  });

  play.addEventListener('click', async () => {
    const voice = chosen();
    if (!voice || voice.provider !== 'espeak') return;
    showError(errors, null);
    play.disabled = true;
    play.classList.add('busy');
    showStatus('voice.sampleLoading');
    try {
      const sample = await getAudio(`/api/voices/sample?voice=${encodeURIComponent(voice.voice)}`);
      if (sampleUrl) URL.revokeObjectURL(sampleUrl);
      sampleUrl = URL.createObjectURL(sample);
      audio.src = sampleUrl;
      audio.dataset.voice = voice.voice;
      audio.hidden = false;
      showStatus(null);
      // A browser that refuses to start sound on its own still shows the player's controls to start it.
      await audio.play().catch(() => undefined);
    } catch (error) {
      showStatus(null);
      showError(errors, error);
    } finally {
      play.classList.remove('busy');
      refreshPlay();
    }
  });

  const element = h(
    'div',
    { class: 'field voice-picker' },
    h('label', { class: 'field-label', i18n: labelKey, htmlFor: id }),
    h('div', { class: 'voice-row' }, choice, play),
    audio,
    hintKey ? h('span', { class: 'hint', i18n: hintKey }) : null,
    status,
    errors,
  );
  setLanguage(language);
  return {
    element,
    setLanguage,
    /** The chosen {provider, voice}, or null (none chosen, or the list could not be read). */
    value() {
      const voice = chosen();
      return voice ? { provider: voice.provider, voice: voice.voice } : null;
    },
    /** Whether the choice is what tts would speak the language with anyway (the request can leave it out). */
    isLanguageDefault() {
      const voice = chosen();
      return !voice || (voice.provider === 'espeak' && voice.voice.toLowerCase() === languageDefaultVoice(current));
    },
  };
}
