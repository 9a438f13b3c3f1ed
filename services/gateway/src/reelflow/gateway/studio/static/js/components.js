// Pieces several pages use: a progress bar, pickers that upload a file at once (music, a brand's logo and font)
// and the render options form.

import { ApiError, uploadFile } from './api.js';
import { field, h, retranslate, select, showError } from './dom.js';
import { t } from './i18n.js';
import { subtitleStylePicker } from './subtitle-style.js';
import { voicePicker } from './voice-picker.js';

// The frame sizes offered (any even WIDTHxHEIGHT of at least 64 renders; these are the common ones).
export const LESSON_SIZES = ['1280x720', '1920x1080', '854x480', '640x360', '1080x1920', '720x1280'];
export const SHORT_SIZES = ['1080x1920', '720x1280', '540x960'];
export const FRAME_RATES = ['30', '25', '24'];
const STYLES = [['basic', 'options.style.basic'], ['animated', 'options.style.animated']];
const SUBTITLES = [['both', 'options.subtitles.both'], ['burn', 'options.subtitles.burn'], ['sidecar', 'options.subtitles.sidecar']];
const THEMES = [['dark', 'options.theme.dark'], ['light', 'options.theme.light'], ['brand', 'options.theme.brand']];
const LAYOUTS = [['headline', 'options.layout.headline'], ['bullets', 'options.layout.bullets']];

/** A file input whose button and "nothing chosen" text are the studio's own (the browser's are in its language). */
export function filePicker(labelKey, buttonKey, props = {}, hintKey = null) {
  const input = h('input', { type: 'file', class: 'file-input', ...props });
  const chosen = h('span', { class: 'file-name muted', i18n: props.multiple ? 'file.noneMany' : 'file.none' });
  input.addEventListener('change', () => {
    const names = [...input.files].map((file) => file.name);
    if (names.length) {
      delete chosen.dataset.i18n;
      chosen.textContent = names.join(', ');
    } else {
      retranslate(chosen, props.multiple ? 'file.noneMany' : 'file.none');
    }
  });
  const element = h(
    'div',
    { class: 'field' },
    labelKey ? h('span', { class: 'field-label', i18n: labelKey }) : null,
    h('label', { class: 'file-picker' }, input, h('span', { class: 'button', i18n: buttonKey }), chosen),
    hintKey ? h('span', { class: 'hint', i18n: hintKey }) : null,
  );
  return { element, input, reset: () => { input.value = ''; retranslate(chosen, props.multiple ? 'file.noneMany' : 'file.none'); } };
}

export function progressBar() {
  const fill = h('span', { class: 'bar-fill' });
  const bar = h('div', { class: 'bar', attrs: { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0' } }, fill);
  return {
    element: bar,
    set(percent) {
      const clamped = Math.max(0, Math.min(100, Math.round(percent)));
      fill.style.width = `${clamped}%`;
      bar.setAttribute('aria-valuenow', String(clamped));
    },
    fail() {
      bar.classList.add('failed');
    },
  };
}

/**
 * A file picker that uploads the chosen file at once (POST /api/uploads, with progress) and yields its media_key.
 * `kinds` are the upload kinds the caller can use: a file the gateway takes as another kind is refused here, at
 * once, rather than by the render later. `ready(uploaded, file)` answers what to show once it is stored:
 * [i18n key, vars]. `preview(file)` (optional) answers an element made from the local file, shown beside it.
 * `initial` is a media_key chosen before (kept render options): value() until it is removed or replaced.
 * settled() answers a promise of the latest upload's end (it never rejects: a refusal is shown in the picker).
 * `onChange(mediaKey)` (optional) hears each change of value(): a stored upload's key, or null.
 */
export function uploadPicker({ labelKey, hintKey = null, accept, name, kinds, ready, preview = null, initial = null, onChange = null }) {
  let mediaKey = initial;
  let shown = null;
  let attempt = 0; // a later choice (or Remove) outdates an upload still under way
  let settled = Promise.resolve(); // the latest upload's end, stored or refused
  const picker = filePicker(labelKey, 'file.choose', { accept, class: `file-input ${name}-file` }, hintKey);
  const { input } = picker;
  // A kept upload: "chosen before" where the chosen file's name would be (the file input itself is empty), and
  // its key below. The key is a 64-digit hash: its start tells uploads apart well enough to show.
  const status = h('span', { class: `muted upload-status ${name}-status`, hidden: !initial });
  if (initial) {
    retranslate(picker.element.querySelector('.file-name'), 'upload.kept');
    status.textContent = `${initial.slice(0, 20)}…${initial.slice(initial.lastIndexOf('.'))}`;
  }
  const previewSlot = h('span', { class: 'upload-preview' });
  const bar = progressBar();
  bar.element.hidden = true;
  const errors = h('div', { class: 'error-slot' });
  const remove = h('button', { type: 'button', class: `link-button ${name}-remove`, i18n: 'upload.remove', hidden: !initial });
  const showPreview = (element) => {
    if (shown && shown.src && shown.src.startsWith('blob:')) URL.revokeObjectURL(shown.src);
    shown = element;
    previewSlot.replaceChildren(...(element ? [element] : []));
  };
  const forget = () => {
    attempt += 1;
    if (mediaKey !== null && onChange) onChange(null);
    mediaKey = null;
    remove.hidden = true;
    status.hidden = true;
    showPreview(null);
  };
  input.addEventListener('change', () => { settled = upload(); });
  async function upload() {
    const file = input.files[0];
    forget();
    const mine = attempt;
    bar.element.classList.remove('failed');
    bar.element.hidden = true;
    showError(errors, null);
    if (!file) return;
    bar.element.hidden = false;
    status.hidden = false;
    bar.set(0);
    retranslate(status, 'upload.uploading', { name: file.name });
    try {
      const uploaded = await uploadFile(file, (fraction) => bar.set(fraction * 100));
      if (mine !== attempt) return;
      if (!kinds.includes(uploaded.kind)) {
        throw new ApiError(0, 'WRONG_KIND', t('upload.wrongKind', { name: file.name, found: t(`upload.kind.${uploaded.kind}`), wanted: t(`upload.kind.${kinds[0]}`) }), {});
      }
      mediaKey = uploaded.media_key;
      if (onChange) onChange(mediaKey);
      const [key, vars] = ready(uploaded, file);
      retranslate(status, key, vars);
      if (preview) showPreview(preview(file));
      bar.element.hidden = true; // "is ready" says it; a full bar beside it would only repeat that
      remove.hidden = false;
    } catch (error) {
      if (mine !== attempt) return;
      bar.fail();
      status.hidden = true;
      showError(errors, error);
      remove.hidden = false; // the refused file can be cleared too
    }
  }
  remove.addEventListener('click', () => {
    forget();
    picker.reset();
    bar.element.hidden = true;
    showError(errors, null);
  });
  const element = h(
    'div',
    { class: `upload-picker ${name}-picker` },
    picker.element,
    h('div', { class: 'upload-row' }, previewSlot, status, remove),
    bar.element,
    errors,
  );
  return { element, value: () => mediaKey, settled: () => settled };
}

/** A music track: pick an audio file, it is uploaded at once; value() is a MusicTrack or null. */
export function musicPicker(initial = null) {
  const upload = uploadPicker({
    labelKey: 'music.file',
    accept: 'audio/*,.mp3,.m4a,.wav,.ogg',
    name: 'music',
    kinds: ['audio', 'video'], // a video's sound track is music too
    ready: (uploaded, file) => ['music.ready', { name: file.name, seconds: uploaded.duration_sec.toFixed(1) }],
    initial: initial ? initial.media_key : null,
  });
  const volume = h('input', { type: 'number', min: '0', max: '1', step: '0.05', value: String(initial?.volume ?? 0.15), class: 'music-volume' });
  upload.element.append(field('music.volume', volume));
  return {
    element: upload.element,
    value: () => (upload.value() ? { media_key: upload.value(), volume: Number(volume.value) } : null),
    settled: upload.settled,
  };
}

/** A small picture of the chosen logo, from the local file (the upload itself is not served back). */
function logoThumbnail(file) {
  return h('img', { class: 'logo-thumb', src: URL.createObjectURL(file), alt: '' });
}

/**
 * Size, frame rate, look, subtitles (and how burned ones look), voice and music of a lesson render; value() is the
 * request's fields.
 * `language` is the script's: the voice picker lists its voices (setLanguage() when the form's language changes).
 */
export function renderOptionsForm(initial = {}, { language }) {
  const size = select(LESSON_SIZES.map((s) => [s, `size.${s}`]), initial.size || '1280x720');
  size.name = 'size';
  const fps = select(FRAME_RATES.map((r) => [r, `fps.${r}`]), String(initial.fps || 30));
  fps.name = 'fps';
  const style = select(STYLES, initial.visual_style || 'basic');
  style.name = 'visual_style';
  const subtitles = select(SUBTITLES, initial.subtitles || 'both');
  subtitles.name = 'subtitles';
  const subtitleLook = subtitleStylePicker(initial.subtitle_style);
  const showSubtitleLook = () => { subtitleLook.element.hidden = subtitles.value === 'sidecar'; };
  subtitles.addEventListener('change', showSubtitleLook);
  showSubtitleLook();
  const theme = select(THEMES, initial.theme || 'dark');
  theme.name = 'theme';
  const brand = initial.brand || {};
  const brandBackground = h('input', { type: 'color', name: 'brand_background', value: brand.background || '#0b3d2e' });
  const brandAccent = h('input', { type: 'color', name: 'brand_accent', value: brand.accent || '#f5a623' });
  const logo = uploadPicker({
    labelKey: 'options.brand.logo',
    hintKey: 'options.brand.logoHint',
    accept: 'image/png,image/jpeg,image/webp',
    name: 'logo',
    kinds: ['image'],
    ready: (uploaded, file) => ['options.brand.logoReady', { name: file.name, width: uploaded.width, height: uploaded.height }],
    preview: logoThumbnail,
    initial: brand.logo || null,
  });
  const font = uploadPicker({
    labelKey: 'options.brand.font',
    hintKey: 'options.brand.fontHint',
    accept: '.ttf,.otf',
    name: 'font',
    kinds: ['font'],
    ready: (uploaded, file) => ['options.brand.fontReady', { name: file.name }],
    initial: brand.font || null,
  });
  const brandColours = h(
    'div',
    { class: 'brand-options wide' },
    h('div', { class: 'brand-colours' }, field('options.brand.background', brandBackground), field('options.brand.accent', brandAccent)),
    logo.element,
    font.element,
  );
  const showBrand = () => { brandColours.hidden = theme.value !== 'brand'; };
  theme.addEventListener('change', showBrand);
  showBrand();
  const layout = select(LAYOUTS, initial.layout || 'headline');
  layout.name = 'layout';
  const titleCard = h('input', { type: 'checkbox', name: 'title_card' });
  titleCard.checked = initial.title_card !== false; // a lesson opens with its title unless it was turned off
  const voice = voicePicker({ language, initial: initial.voice });
  const rate = h('input', { type: 'number', name: 'rate', min: '0.5', max: '2', step: '0.1', value: String((initial.voice && initial.voice.rate) || 1) });
  const pitch = h('input', { type: 'number', name: 'pitch', min: '-12', max: '12', step: '1', value: String((initial.voice && initial.voice.pitch) || 0) });
  const music = musicPicker(initial.music || null);
  const element = h(
    'fieldset',
    { class: 'options-grid' },
    h('legend', { i18n: 'options.render' }),
    field('options.size', size),
    field('options.fps', fps),
    field('options.style', style),
    field('options.subtitles', subtitles),
    subtitleLook.element,
    field('options.theme', theme),
    brandColours,
    field('options.layout', layout),
    field('options.title_card', titleCard),
    h('div', { class: 'voice-cell' }, voice.element),
    field('options.rate', rate),
    field('options.pitch', pitch, 'options.pitch.hint'),
    h('div', { class: 'wide' }, h('span', { class: 'field-label', i18n: 'options.music' }), music.element),
  );
  function value() {
    const options = {
      size: size.value,
      fps: Number(fps.value),
      visual_style: style.value,
      subtitles: subtitles.value,
      title_card: titleCard.checked,
      theme: theme.value,
      layout: layout.value,
    };
    if (theme.value === 'brand') {
      options.brand = { background: brandBackground.value.toUpperCase(), accent: brandAccent.value.toUpperCase() };
      if (logo.value()) options.brand.logo = logo.value();
      if (font.value()) options.brand.font = font.value();
    }
    // A request that leaves the voice alone says nothing about it, as before the picker: tts then speaks the
    // script's language with espeak-ng's voice for it, which is the one the picker shows chosen.
    const speed = Number(rate.value);
    const semitones = Number(pitch.value);
    if (!voice.isLanguageDefault() || speed !== 1 || semitones !== 0) {
      options.voice = { provider: 'espeak', voice: null, ...voice.value(), rate: speed, pitch: semitones };
    }
    const look = subtitles.value === 'sidecar' ? null : subtitleLook.value();
    if (look) options.subtitle_style = look;
    const track = music.value();
    if (track) options.music = track;
    return options;
  }
  // A request sent while a file is still uploading would go without it: the pages wait for this first.
  const whenUploaded = () => Promise.all([logo.settled(), font.settled(), music.settled()]);
  return { element, value, setLanguage: voice.setLanguage, whenUploaded };
}

/** Render options chosen on the New lesson page, kept for the script's review (the API keeps them only when checked). */
export function keepRenderOptions(scriptId, options) {
  window.localStorage.setItem(`reelflow.studio.render.${scriptId}`, JSON.stringify(options));
}

export function keptRenderOptions(scriptId) {
  try {
    return JSON.parse(window.localStorage.getItem(`reelflow.studio.render.${scriptId}`) || '{}');
  } catch {
    return {};
  }
}

export function newVideoId(prefix) {
  const stamp = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}-${stamp}-${random}`;
}
