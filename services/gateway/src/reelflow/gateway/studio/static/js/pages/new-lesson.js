// New lesson: the lesson text (pasted or from a file), how the script is written, and how it will render.

import { api } from '../api.js';
import { busy, field, h, retranslate, select, showError } from '../dom.js';
import { filePicker, keepRenderOptions, newVideoId, renderOptionsForm } from '../components.js';
import { currentLanguage } from '../i18n.js';
import { pageHeading, startPage } from '../layout.js';

const LANGUAGES = [['ko', 'language.ko'], ['en', 'language.en']];
const MAX_SOURCE_CHARS = 100000;

startPage(async (main) => {
  const title = h('input', { type: 'text', name: 'title', maxLength: 200, i18nAttrs: { placeholder: 'lesson.titlePlaceholder' } });
  const text = h('textarea', { name: 'source_text', rows: 14, maxLength: MAX_SOURCE_CHARS, i18nAttrs: { placeholder: 'lesson.textPlaceholder' } });
  const picker = filePicker('lesson.file', 'file.choose', { name: 'source_file', accept: '.md,.markdown,.txt,text/plain,text/markdown' }, 'lesson.fileHint');
  const file = picker.input;
  const counter = h('span', { class: 'hint', i18n: 'lesson.characters', i18nVars: { n: 0 } });
  const updateCount = () => retranslate(counter, 'lesson.characters', { n: text.value.length.toLocaleString() });
  text.addEventListener('input', updateCount);
  file.addEventListener('change', async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    text.value = (await chosen.text()).slice(0, MAX_SOURCE_CHARS);
    if (!title.value) title.value = chosen.name.replace(/\.[^.]+$/, '');
    updateCount();
  });
  const language = select(LANGUAGES, currentLanguage());
  language.name = 'language';
  const minutes = h('input', { type: 'number', name: 'target_minutes', min: '0.5', max: '60', step: '0.5', value: '3' });
  const chapters = h('input', { type: 'number', name: 'max_chapters', min: '1', max: '30', step: '1', value: '5' });
  const tone = h('input', { type: 'text', name: 'style', value: 'friendly security training' });
  const render = renderOptionsForm({}, { language: language.value });
  language.addEventListener('change', () => render.setLanguage(language.value));
  const errors = h('div', { class: 'error-slot' });
  const submit = h('button', { type: 'submit', class: 'primary', i18n: 'lesson.submit' });

  const form = h(
    'form',
    { class: 'stack' },
    h(
      'section',
      { class: 'card' },
      h('h2', { i18n: 'lesson.source' }),
      field('lesson.title', title),
      h('label', { class: 'field' }, h('span', { class: 'field-label', i18n: 'lesson.text' }), text, counter),
      picker.element,
    ),
    h(
      'section',
      { class: 'card' },
      h(
        'fieldset',
        { class: 'options-grid' },
        h('legend', { i18n: 'options.script' }),
        field('options.language', language),
        field('options.minutes', minutes),
        field('options.chapters', chapters),
        field('options.tone', tone, 'options.tone.hint'),
      ),
    ),
    h('section', { class: 'card' }, render.element),
    errors,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('input', () => showError(errors, null));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(errors, null);
    await busy(submit, null, render.whenUploaded);
    const videoId = newVideoId('lesson');
    const renderOptions = render.value();
    const body = {
      source_text: text.value,
      title: title.value.trim(),
      options: {
        language: language.value,
        target_minutes: Number(minutes.value),
        max_chapters: Number(chapters.value),
        style: tone.value.trim() || 'friendly security training',
      },
      render_defaults: renderOptions,
    };
    const accepted = await busy(submit, errors, () => api.post(`/api/videos/${videoId}/scripts/generate`, body));
    if (!accepted) return;
    keepRenderOptions(accepted.script_id, renderOptions);
    window.location.assign(`/studio/scripts/${encodeURIComponent(accepted.script_id)}`);
  });
  main.append(pageHeading('page.newLesson'), h('p', { class: 'muted lead', i18n: 'lesson.intro' }), form);
});
