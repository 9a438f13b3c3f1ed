// A scene's picture or video (its `visual`, `visual_placement`, `visual_start_sec` and `visual_end_sec` in the
// script): uploaded at once, beside the scene's text or filling the frame under it, a video from and to where the
// scene says. A prompt set through the API (for an image provider) is shown as it is and can be removed or
// replaced by an upload.

import { uploadPicker } from './components.js';
import { field, h, select } from './dom.js';

const UPLOADED = /^uploads\/[0-9a-f]{64}\.[a-z0-9]+$/;
const VIDEO = /\.(mp4|mov|mkv|webm)$/; // the uploads a scene shows as a video (VIDEO_UPLOAD_KEY_PATTERN)
const PLACEMENTS = [['beside', 'scene.placement.beside'], ['full_frame', 'scene.placement.full_frame']];

/** A small picture or a still of the video, from the local file (an upload is not served back). */
function visualThumbnail(file) {
  const source = URL.createObjectURL(file);
  if (file.type.startsWith('video/')) return h('video', { class: 'visual-thumb', src: source, muted: true, preload: 'metadata' });
  return h('img', { class: 'visual-thumb', src: source, alt: '' });
}

/**
 * The visual fields of `scene`, written into it as they change; `changed()` is called after each change.
 * settled() answers a promise of the latest upload's end, for a save made while a file is still uploading.
 */
export function sceneVisualField(scene, changed) {
  const current = (scene.visual || '').trim();
  const prompt = current && !UPLOADED.test(current) ? current : null;
  const setVisual = (key) => {
    scene.visual = key;
    placementField.hidden = !key;
    startField.hidden = !(key && VIDEO.test(key));
    endField.hidden = startField.hidden;
    // A new video plays from its start to its end until told otherwise; a picture has neither.
    scene.visual_start_sec = 0;
    scene.visual_end_sec = null;
    start.value = '0';
    end.value = '';
    if (promptLine) promptLine.hidden = true;
    changed();
  };
  const picker = uploadPicker({
    labelKey: 'scene.visual',
    hintKey: 'scene.visualHint',
    accept: 'image/png,image/jpeg,image/webp,video/mp4,video/quicktime,video/x-matroska,video/webm,.mkv',
    name: 'visual',
    kinds: ['image', 'video'],
    ready: (uploaded, file) => {
      if (uploaded.kind !== 'video') return ['scene.visualReady', { name: file.name, width: uploaded.width, height: uploaded.height }];
      start.max = String(Math.max(0, uploaded.duration_sec - 0.1).toFixed(1));
      end.max = uploaded.duration_sec.toFixed(1);
      return ['scene.visualReadyVideo', { name: file.name, seconds: uploaded.duration_sec.toFixed(1) }];
    },
    preview: visualThumbnail,
    initial: prompt ? null : current || null,
    onChange: (key) => setVisual(key), // an upload replaces a prompt; removing it leaves none
  });
  const placement = select(PLACEMENTS, scene.visual_placement || 'beside');
  placement.name = 'visual_placement';
  placement.addEventListener('change', () => {
    scene.visual_placement = placement.value;
    changed();
  });
  const placementField = field('scene.placement', placement);
  placementField.hidden = !current;
  const start = h('input', { type: 'number', name: 'visual_start_sec', min: '0', step: '0.1', value: String(scene.visual_start_sec || 0) });
  start.addEventListener('input', () => {
    scene.visual_start_sec = Math.max(0, Number(start.value) || 0);
    changed();
  });
  const startField = field('scene.visualStart', start, 'scene.visualStartHint');
  startField.hidden = !VIDEO.test(current);
  const end = h('input', { type: 'number', name: 'visual_end_sec', min: '0', step: '0.1', value: scene.visual_end_sec ?? '' });
  end.addEventListener('input', () => {
    scene.visual_end_sec = end.value === '' ? null : Number(end.value);
    changed();
  });
  const endField = field('scene.visualEnd', end, 'scene.visualEndHint');
  endField.hidden = startField.hidden;
  let promptLine = null;
  if (prompt) {
    const removePrompt = h('button', { type: 'button', class: 'link-button prompt-remove', i18n: 'upload.remove' });
    promptLine = h('p', { class: 'visual-prompt' }, h('span', { class: 'muted', i18n: 'scene.visualPrompt' }), ' ', h('q', { text: prompt }), ' ', removePrompt);
    removePrompt.addEventListener('click', () => setVisual(null));
  }
  const element = h('div', { class: 'scene-visual' }, picker.element, promptLine, h('div', { class: 'scene-row visual-row' }, placementField, startField, endField));
  return { element, settled: picker.settled };
}
