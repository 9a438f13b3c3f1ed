// Ranking-short builder: drop clips or pictures (each uploads at once, with progress), order them by dragging, label
// and trim each, choose music, then render; the short counts down, so the first clip in the list gets the highest rank.

import { api, uploadFile } from '../api.js';
import { busy, clear, errorBox, field, formatSeconds, h, retranslate, select, showError, translate } from '../dom.js';
import { SHORT_SIZES, musicPicker, newVideoId, progressBar } from '../components.js';
import { currentLanguage } from '../i18n.js';
import { pageHeading, startPage } from '../layout.js';
import { voicePicker } from '../voice-picker.js';

const LANGUAGES = [['ko', 'language.ko'], ['en', 'language.en']];
const MAX_CLIPS = 20;
const THUMB_WIDTH = 160;
const THUMB_HEIGHT = 90;

/** A still of a local video file or picture, drawn into a canvas, as a data: URL (null when the browser cannot
 * decode it). */
function thumbnailOf(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const picture = file.type.startsWith('image/');
    const probe = document.createElement(picture ? 'img' : 'video');
    const done = (value) => {
      URL.revokeObjectURL(url);
      resolve(value);
    };
    const draw = (sourceWidth, sourceHeight) => {
      const canvas = document.createElement('canvas');
      canvas.width = THUMB_WIDTH;
      canvas.height = THUMB_HEIGHT;
      const context = canvas.getContext('2d');
      context.fillStyle = '#111';
      context.fillRect(0, 0, THUMB_WIDTH, THUMB_HEIGHT);
      const scale = Math.min(THUMB_WIDTH / sourceWidth, THUMB_HEIGHT / sourceHeight);
      const width = sourceWidth * scale;
      const height = sourceHeight * scale;
      context.drawImage(probe, (THUMB_WIDTH - width) / 2, (THUMB_HEIGHT - height) / 2, width, height);
      done(canvas.toDataURL('image/jpeg', 0.8));
    };
    if (picture) {
      probe.addEventListener('load', () => draw(probe.naturalWidth, probe.naturalHeight));
    } else {
      probe.muted = true;
      probe.preload = 'auto';
      probe.addEventListener('loadeddata', () => {
        probe.currentTime = Math.min(0.5, (probe.duration || 1) / 2);
      });
      probe.addEventListener('seeked', () => draw(probe.videoWidth, probe.videoHeight));
    }
    probe.addEventListener('error', () => done(null));
    probe.src = url;
  });
}

startPage(async (main) => {
  const clips = [];
  const title = h('input', { type: 'text', name: 'title', maxLength: 200, i18nAttrs: { placeholder: 'ranking.titlePlaceholder' } });
  const titleCard = h('input', { type: 'checkbox', name: 'title_card' });
  const size = select(SHORT_SIZES.map((s) => [s, `size.${s}`]), '1080x1920');
  size.name = 'size';
  const music = musicPicker();
  // The short has no language of its own: this one only narrows the voices listed for reading the labels.
  const voiceLanguage = select(LANGUAGES, currentLanguage());
  voiceLanguage.name = 'voice_language';
  const voice = voicePicker({ language: voiceLanguage.value, optional: true, labelKey: 'ranking.voice', hintKey: 'ranking.voiceHint' });
  voiceLanguage.addEventListener('change', () => voice.setLanguage(voiceLanguage.value));
  const list = h('ol', { class: 'clip-list' });
  const errors = h('div', { class: 'error-slot' });
  const render = h('button', { type: 'button', class: 'primary render', i18n: 'ranking.render', disabled: true });
  const fileInput = h('input', { type: 'file', multiple: true, accept: 'video/*,image/png,image/jpeg,image/webp,.mp4,.mov,.mkv,.webm,.png,.jpg,.jpeg,.webp', class: 'file-input clip-files' });
  const drop = h(
    'label',
    { class: 'dropzone' },
    fileInput,
    h('strong', { i18n: 'ranking.dropHere' }),
    h('span', { class: 'muted', i18n: 'ranking.dropHint' }),
    h('span', { class: 'button', i18n: 'file.chooseMany' }),
  );
  let dragging = null;

  function refreshRender() {
    render.disabled = !clips.length || clips.some((clip) => !clip.mediaKey);
  }

  function clipRow(clip, index) {
    const rank = clips.length - index;
    const label = h('input', { type: 'text', name: 'label', value: clip.label, maxLength: 80 });
    label.addEventListener('input', () => {
      clip.label = label.value;
    });
    const start = h('input', { type: 'number', name: 'start', min: '0', step: '0.1', value: clip.start ?? '' });
    start.addEventListener('input', () => {
      clip.start = start.value === '' ? null : Number(start.value);
    });
    const end = h('input', { type: 'number', name: 'end', min: '0', step: '0.1', value: clip.end ?? '' });
    end.addEventListener('input', () => {
      clip.end = end.value === '' ? null : Number(end.value);
    });
    const keepAudio = h('input', { type: 'checkbox', name: 'keep_audio', checked: clip.keepAudio, disabled: clip.hasAudio === false });
    keepAudio.addEventListener('change', () => {
      clip.keepAudio = keepAudio.checked;
    });
    const move = (delta) => () => {
      const target = index + delta;
      if (target < 0 || target >= clips.length) return;
      clips.splice(target, 0, ...clips.splice(index, 1));
      renderList();
    };
    const remove = () => {
      clips.splice(index, 1);
      renderList();
    };
    const row = h(
      'li',
      { class: 'clip', draggable: true, dataset: { index: String(index), name: clip.file.name } },
      h('span', { class: 'drag-handle', attrs: { 'aria-hidden': 'true' }, text: '⋮⋮' }),
      h('span', { class: 'rank', text: `#${rank}` }),
      clip.thumbnail ? h('img', { class: 'clip-thumb', src: clip.thumbnail, alt: '' }) : h('div', { class: 'clip-thumb thumb-empty', text: '▶' }),
      h(
        'div',
        { class: 'clip-main' },
        h('p', { class: 'clip-name' }, h('strong', { text: clip.file.name }), ' ', h('span', { class: 'muted', text: clip.duration ? formatSeconds(clip.duration) : '' })),
        clip.mediaKey ? null : clip.bar.element,
        clip.error ? errorBox(clip.error) : null,
        h(
          'div',
          { class: 'clip-fields' },
          field('ranking.label', label),
          field('ranking.start', start),
          field('ranking.end', end),
          h('label', { class: 'switch' }, keepAudio, h('span', { i18n: clip.hasAudio === false ? 'ranking.noAudio' : 'ranking.keepAudio' })),
        ),
      ),
      h(
        'div',
        { class: 'scene-tools' },
        h('button', { type: 'button', class: 'icon move-up', text: '↑', disabled: index === 0, i18nAttrs: { title: 'scene.up', 'aria-label': 'scene.up' }, on: { click: move(-1) } }),
        h('button', { type: 'button', class: 'icon move-down', text: '↓', disabled: index === clips.length - 1, i18nAttrs: { title: 'scene.down', 'aria-label': 'scene.down' }, on: { click: move(1) } }),
        h('button', { type: 'button', class: 'icon danger remove', text: '✕', i18nAttrs: { title: 'ranking.remove', 'aria-label': 'ranking.remove' }, on: { click: remove } }),
      ),
    );
    row.addEventListener('dragstart', (event) => {
      dragging = index;
      row.classList.add('dragging');
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', String(index));
    });
    row.addEventListener('dragend', () => row.classList.remove('dragging'));
    row.addEventListener('dragover', (event) => {
      if (dragging === null) return;
      event.preventDefault();
      row.classList.add('drop-target');
    });
    row.addEventListener('dragleave', () => row.classList.remove('drop-target'));
    row.addEventListener('drop', (event) => {
      event.preventDefault();
      event.stopPropagation();
      if (dragging === null || dragging === index) return;
      clips.splice(index, 0, ...clips.splice(dragging, 1));
      dragging = null;
      renderList();
    });
    return row;
  }

  function renderList() {
    clear(list).append(...clips.map(clipRow));
    if (!clips.length) list.append(h('li', { class: 'muted empty', i18n: 'ranking.noClips' }));
    translate(list);
    refreshRender();
  }

  async function addFiles(files) {
    for (const file of files) {
      if (clips.length >= MAX_CLIPS) break;
      const clip = { file, label: file.name.replace(/\.[^.]+$/, ''), start: null, end: null, keepAudio: true, hasAudio: null, mediaKey: null, bar: progressBar(), thumbnail: null, duration: null, error: null };
      clips.push(clip);
      renderList();
      thumbnailOf(file).then((thumbnail) => {
        clip.thumbnail = thumbnail;
        renderList();
      });
      uploadFile(file, (fraction) => clip.bar.set(fraction * 100)).then(
        (uploaded) => {
          clip.mediaKey = uploaded.media_key;
          clip.duration = uploaded.duration_sec;
          clip.hasAudio = uploaded.has_audio;
          clip.keepAudio = uploaded.has_audio;
          renderList();
        },
        (error) => {
          clip.error = error;
          clip.bar.fail();
          renderList();
        },
      );
    }
  }

  fileInput.addEventListener('change', () => {
    addFiles([...fileInput.files]);
    fileInput.value = '';
  });
  drop.addEventListener('dragover', (event) => {
    if (dragging !== null) return;
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    if (dragging !== null) return;
    event.preventDefault();
    drop.classList.remove('over');
    addFiles([...event.dataTransfer.files]);
  });

  render.addEventListener('click', async () => {
    showError(errors, null);
    const body = {
      video_id: newVideoId('short'),
      title: title.value.trim(),
      title_card: titleCard.checked,
      size: size.value,
      clips: clips.map((clip, index) => {
        const entry = { media_key: clip.mediaKey, rank: clips.length - index, label: clip.label.trim(), keep_audio: clip.keepAudio };
        if (clip.start !== null) entry.start = clip.start;
        if (clip.end !== null) entry.end = clip.end;
        return entry;
      }),
    };
    const track = music.value();
    if (track) body.music = track;
    const narrator = voice.value();
    if (narrator) {
      body.voice = narrator;
      body.language = voiceLanguage.value; // the labels are announced in it ("3위." or "Number 3.")
    }
    const started = await busy(render, errors, () => api.post('/api/ranking-jobs', body));
    if (started) window.location.assign(`/studio/videos/${encodeURIComponent(body.video_id)}/progress?job=${encodeURIComponent(started.job.job_id)}`);
  });

  main.append(
    pageHeading('page.ranking'),
    h('p', { class: 'muted lead', i18n: 'ranking.intro' }),
    h('section', { class: 'card' }, field('ranking.title', title), h('label', { class: 'switch' }, titleCard, h('span', { i18n: 'ranking.titleCard' })), drop, list),
    h(
      'section',
      { class: 'card' },
      h(
        'fieldset',
        { class: 'options-grid' },
        h('legend', { i18n: 'options.render' }),
        field('options.size', size),
        field('ranking.voiceLanguage', voiceLanguage),
        h('div', { class: 'wide' }, voice.element),
        h('div', { class: 'wide' }, h('span', { class: 'field-label', i18n: 'options.music' }), music.element),
      ),
    ),
    errors,
    h('div', { class: 'actions' }, render),
  );
  renderList();
  retranslate(render, 'ranking.render');
});
