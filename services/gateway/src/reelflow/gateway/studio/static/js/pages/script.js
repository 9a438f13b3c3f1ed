// Script review: the chapters and scenes of the latest version, edited in place (saved as a new version), the
// versions and what changed between two of them, approval, and the start of the render job.

import { ApiError, api } from '../api.js';
import { busy, clear, errorBox, field, formatSeconds, h, loading, retranslate, select, showError, translate } from '../dom.js';
import { keepRenderOptions, keptRenderOptions, renderOptionsForm } from '../components.js';
import { t } from '../i18n.js';
import { pageHeading, startPage } from '../layout.js';
import { sceneVisualField } from '../scene-visual.js';

const WRITING_POLL_MS = 1000;
const ACTIVE = new Set(['QUEUED', 'PROCESSING']);

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const copy = (value) => JSON.parse(JSON.stringify(value));
const sceneId = () => `s-${Math.random().toString(36).slice(2, 10)}`;

async function latestScript(scriptId, waiting) {
  for (;;) {
    const answer = await api.get(`/api/scripts/${encodeURIComponent(scriptId)}`, { accept: [200, 202] });
    if (answer.status === 200) return answer.data;
    waiting();
    await sleep(WRITING_POLL_MS);
  }
}

function statusBadge(status) {
  return h('span', { class: `badge badge-${status.toLowerCase()}`, i18n: `status.${status}` });
}

/** What changed from version a to version b: per chapter title, and per scene added, removed or edited. */
export function scriptChanges(a, b) {
  const changes = [];
  const scenesOf = (script) => {
    const found = new Map();
    script.script.chapters.forEach((chapter, c) => chapter.scenes.forEach((scene, s) => found.set(scene.scene_id, { scene, chapter, c, s })));
    return found;
  };
  const before = scenesOf(a);
  const after = scenesOf(b);
  if (a.title !== b.title) changes.push({ kind: 'title', from: a.title, to: b.title });
  b.script.chapters.forEach((chapter) => {
    const old = a.script.chapters.find((other) => other.chapter_id === chapter.chapter_id);
    if (!old) changes.push({ kind: 'chapterAdded', to: chapter.title });
    else if (old.title !== chapter.title) changes.push({ kind: 'chapterRenamed', from: old.title, to: chapter.title });
  });
  a.script.chapters.forEach((chapter) => {
    if (!b.script.chapters.some((other) => other.chapter_id === chapter.chapter_id)) changes.push({ kind: 'chapterRemoved', from: chapter.title });
  });
  for (const [id, now] of after) {
    const was = before.get(id);
    if (!was) {
      changes.push({ kind: 'sceneAdded', to: now.scene.narration, where: now.chapter.title });
      continue;
    }
    for (const key of ['narration', 'on_screen_text', 'duration_sec', 'visual', 'visual_placement', 'visual_start_sec', 'visual_end_sec']) {
      if ((was.scene[key] ?? null) !== (now.scene[key] ?? null)) {
        changes.push({ kind: `scene.${key}`, from: was.scene[key] ?? '', to: now.scene[key] ?? '', where: now.chapter.title });
      }
    }
    if (was.c !== now.c || was.s !== now.s) changes.push({ kind: 'sceneMoved', to: now.scene.narration, where: now.chapter.title });
  }
  for (const [id, was] of before) {
    if (!after.has(id)) changes.push({ kind: 'sceneRemoved', from: was.scene.narration, where: was.chapter.title });
  }
  return changes;
}

function changeList(changes) {
  if (!changes.length) return h('p', { class: 'muted', i18n: 'versions.noChanges' });
  return h(
    'ul',
    { class: 'changes' },
    changes.map((change) =>
      h(
        'li',
        { class: `change change-${change.kind.replace('.', '-')}` },
        h('span', { class: 'change-kind', i18n: `change.${change.kind}` }),
        change.where ? h('span', { class: 'muted', text: ` · ${change.where}` }) : null,
        change.from !== undefined && change.from !== '' ? h('del', { text: String(change.from) }) : null,
        change.to !== undefined && change.to !== '' ? h('ins', { text: String(change.to) }) : null,
      ),
    ),
  );
}

startPage(async (main, { params }) => {
  const scriptId = params.scriptId;
  const status = loading();
  main.append(status);
  let script;
  try {
    script = await latestScript(scriptId, () => retranslate(status, 'script.writing'));
  } catch (error) {
    clear(main).append(pageHeading('page.script'), errorBox(error));
    return;
  }
  let draft = copy(script.script);
  let draftTitle = script.title;
  let dirty = false;

  const heading = h('div', { class: 'page-heading' });
  const editor = h('div', { class: 'chapters' });
  const errors = h('div', { class: 'error-slot' });
  const saveButton = h('button', { type: 'button', class: 'primary save', i18n: 'script.save' });
  const discardButton = h('button', { type: 'button', class: 'discard', i18n: 'script.discard' });
  const approveButton = h('button', { type: 'button', class: 'primary approve', i18n: 'script.approve' });
  const dirtyNote = h('span', { class: 'hint dirty-note', i18n: 'script.unsaved', hidden: true });
  const renderPanel = h('section', { class: 'card render-panel' });
  const versionsPanel = h('section', { class: 'card versions' });
  const jobsNote = h('div', { class: 'jobs-note' });
  const uploads = []; // each scene picker's settled(): a save waits for the pictures and videos still uploading

  function markDirty() {
    dirty = true;
    dirtyNote.hidden = false;
    approveButton.disabled = true;
  }

  function renderHeading() {
    const totalScenes = draft.chapters.reduce((n, chapter) => n + chapter.scenes.length, 0);
    const seconds = draft.chapters.reduce((n, c) => n + c.scenes.reduce((m, s) => m + (s.duration_sec || 0), 0), 0);
    const titleInput = h('input', { type: 'text', class: 'title-input', value: draftTitle, maxLength: 200, i18nAttrs: { 'aria-label': 'script.titleLabel' } });
    titleInput.addEventListener('input', () => {
      draftTitle = titleInput.value;
      markDirty();
    });
    clear(heading).append(
      h('p', { class: 'eyebrow', i18n: 'page.script' }),
      titleInput,
      h(
        'div',
        { class: 'meta' },
        statusBadge(script.status),
        h('span', { class: 'muted', i18n: 'script.version', i18nVars: { n: script.version } }),
        h('span', { class: 'muted', i18n: 'script.summary', i18nVars: { chapters: draft.chapters.length, scenes: totalScenes, duration: formatSeconds(seconds) } }),
      ),
    );
  }

  function sceneCard(chapter, scene, index) {
    const narration = h('textarea', { name: 'narration', rows: 3, value: scene.narration, maxLength: 2000 });
    narration.addEventListener('input', () => {
      scene.narration = narration.value;
      markDirty();
    });
    const onScreen = h('input', { type: 'text', name: 'on_screen_text', value: scene.on_screen_text || '' });
    onScreen.addEventListener('input', () => {
      scene.on_screen_text = onScreen.value || null;
      markDirty();
    });
    const duration = h('input', { type: 'number', name: 'duration_sec', min: '0', step: '0.1', value: scene.duration_sec ?? '' });
    duration.addEventListener('input', () => {
      scene.duration_sec = duration.value === '' ? null : Number(duration.value);
      markDirty();
    });
    const visual = sceneVisualField(scene, markDirty);
    uploads.push(visual.settled);
    const visualBox = h('details', { class: 'scene-visual-box', open: Boolean(scene.visual) }, h('summary', { i18n: 'scene.visualSummary' }), visual.element);
    const move = (delta) => () => {
      const target = index + delta;
      if (target < 0 || target >= chapter.scenes.length) return;
      const [moved] = chapter.scenes.splice(index, 1);
      chapter.scenes.splice(target, 0, moved);
      markDirty();
      renderEditor();
    };
    const remove = () => {
      chapter.scenes.splice(index, 1);
      if (!chapter.scenes.length) draft.chapters = draft.chapters.filter((other) => other !== chapter);
      markDirty();
      renderEditor();
    };
    return h(
      'li',
      { class: 'scene', dataset: { sceneId: scene.scene_id } },
      h('div', { class: 'scene-number', text: String(index + 1) }),
      h(
        'div',
        { class: 'scene-fields' },
        field('scene.narration', narration),
        h('div', { class: 'scene-row' }, field('scene.onScreen', onScreen), field('scene.duration', duration, 'scene.durationHint')),
        visualBox,
      ),
      h(
        'div',
        { class: 'scene-tools' },
        h('button', { type: 'button', class: 'icon move-up', disabled: index === 0, i18nAttrs: { title: 'scene.up', 'aria-label': 'scene.up' }, text: '↑', on: { click: move(-1) } }),
        h('button', { type: 'button', class: 'icon move-down', disabled: index === chapter.scenes.length - 1, i18nAttrs: { title: 'scene.down', 'aria-label': 'scene.down' }, text: '↓', on: { click: move(1) } }),
        h('button', { type: 'button', class: 'icon danger remove', i18nAttrs: { title: 'scene.remove', 'aria-label': 'scene.remove' }, text: '✕', on: { click: remove } }),
      ),
    );
  }

  function addChapter() {
    draft.chapters.push({ chapter_id: `c-${Math.random().toString(36).slice(2, 10)}`, title: t('chapter.newTitle'), scenes: [{ scene_id: sceneId(), narration: '', on_screen_text: null, duration_sec: null }] });
    markDirty();
    renderEditor();
    const titles = editor.querySelectorAll('.chapter-title');
    titles[titles.length - 1].select();
  }

  function renderEditor() {
    renderHeading();
    const newChapter = h('button', { type: 'button', class: 'add-chapter', i18n: 'chapter.add', on: { click: addChapter } });
    clear(editor).append(
      ...draft.chapters.map((chapter, c) => {
        const chapterTitle = h('input', { type: 'text', class: 'chapter-title', value: chapter.title, i18nAttrs: { 'aria-label': 'chapter.title' } });
        chapterTitle.addEventListener('input', () => {
          chapter.title = chapterTitle.value;
          markDirty();
        });
        const add = h('button', { type: 'button', class: 'add-scene', i18n: 'scene.add' });
        add.addEventListener('click', () => {
          chapter.scenes.push({ scene_id: sceneId(), narration: '', on_screen_text: null, duration_sec: null });
          markDirty();
          renderEditor();
          const fields = editor.querySelectorAll(`.chapter:nth-child(${c + 1}) textarea[name=narration]`);
          fields[fields.length - 1].focus();
        });
        return h(
          'section',
          { class: 'card chapter' },
          h('div', { class: 'chapter-head' }, h('span', { class: 'chapter-number', i18n: 'chapter.number', i18nVars: { n: c + 1 } }), chapterTitle),
          h('ol', { class: 'scenes' }, chapter.scenes.map((scene, s) => sceneCard(chapter, scene, s))),
          h('div', { class: 'actions left' }, add),
        );
      }),
      h('div', { class: 'actions left' }, newChapter),
    );
  }

  async function loadVersions() {
    clear(versionsPanel).append(h('h2', { i18n: 'versions.heading' }), loading());
    let history;
    try {
      history = await api.get(`/api/scripts/${encodeURIComponent(scriptId)}/versions`);
    } catch (error) {
      versionsPanel.append(errorBox(error));
      return;
    }
    const versions = history.versions;
    const options = versions.map((v) => [String(v.version), 'versions.option']);
    const from = select(options, String(versions.length > 1 ? versions[1].version : versions[0].version));
    const to = select(options, String(versions[0].version));
    [from, to].forEach((box) => {
      for (const option of box.options) {
        option.dataset.i18nVars = JSON.stringify({ n: option.value });
      }
      translate(box);
    });
    from.name = 'from';
    to.name = 'to';
    const result = h('div', { class: 'diff' });
    const compare = h('button', { type: 'button', class: 'compare', i18n: 'versions.compare' });
    compare.addEventListener('click', () =>
      busy(compare, result, async () => {
        const path = `/api/scripts/${encodeURIComponent(scriptId)}/versions`;
        const [a, b] = await Promise.all([api.get(`${path}/${from.value}`), api.get(`${path}/${to.value}`)]);
        clear(result).append(changeList(scriptChanges(a, b)));
      }),
    );
    clear(versionsPanel).append(
      h('h2', { i18n: 'versions.heading' }),
      h(
        'table',
        { class: 'table' },
        h('thead', {}, h('tr', {}, ['versions.version', 'versions.status', 'versions.scenes', 'versions.written'].map((key) => h('th', { i18n: key })))),
        h(
          'tbody',
          {},
          versions.map((v) =>
            h('tr', {}, h('td', { text: `v${v.version}` }), h('td', {}, statusBadge(v.status)), h('td', { text: String(v.scene_count) }), h('td', { datetime: v.created_at })),
          ),
        ),
      ),
      h('div', { class: 'compare-row' }, field('versions.from', from), field('versions.to', to), compare),
      result,
    );
  }

  async function loadJobs() {
    clear(jobsNote);
    try {
      const jobs = await api.get(`/api/videos/${encodeURIComponent(script.video_id)}/render-jobs`);
      const latest = jobs.find((job) => job.script_id === scriptId) || null;
      if (!latest) return;
      const active = ACTIVE.has(latest.status);
      const href = active || latest.status !== 'COMPLETED'
        ? `/studio/videos/${encodeURIComponent(script.video_id)}/progress`
        : `/studio/videos/${encodeURIComponent(script.video_id)}`;
      jobsNote.append(
        h('p', { class: 'notice' }, h('span', { i18n: 'script.jobExists' }), ' ', statusBadge(latest.status), ' ', h('a', { href, i18n: active || latest.status !== 'COMPLETED' ? 'script.openProgress' : 'script.openPlayer' })),
      );
    } catch (error) {
      jobsNote.append(errorBox(error));
    }
  }

  function renderRenderPanel() {
    clear(renderPanel);
    if (script.status !== 'APPROVED') {
      renderPanel.append(h('h2', { i18n: 'render.heading' }), h('p', { class: 'muted', i18n: 'render.approveFirst' }));
      return;
    }
    const kept = keptRenderOptions(scriptId);
    const options = renderOptionsForm(kept, { language: (script.options && script.options.language) || 'ko' });
    const start = h('button', { type: 'button', class: 'primary start-render', i18n: 'render.start' });
    const renderErrors = h('div', { class: 'error-slot' });
    start.addEventListener('click', async () => {
      await busy(start, null, options.whenUploaded);
      const body = { script_id: scriptId, ...options.value() };
      const started = await busy(start, renderErrors, () => api.post(`/api/videos/${encodeURIComponent(script.video_id)}/render-jobs`, body));
      if (!started) return;
      keepRenderOptions(scriptId, options.value());
      window.location.assign(`/studio/videos/${encodeURIComponent(script.video_id)}/progress?job=${encodeURIComponent(started.job.job_id)}`);
    });
    renderPanel.append(options.element, renderErrors, h('div', { class: 'actions' }, start));
  }

  function adopt(next) {
    script = next;
    draft = copy(next.script);
    draftTitle = next.title;
    dirty = false;
    dirtyNote.hidden = true;
    approveButton.disabled = next.status === 'APPROVED';
    renderEditor();
    renderRenderPanel();
    translate(main);
  }

  saveButton.addEventListener('click', async () => {
    await busy(saveButton, null, () => Promise.all(uploads.map((settled) => settled())));
    const saved = await busy(saveButton, errors, () =>
      api.put(`/api/scripts/${encodeURIComponent(scriptId)}`, { script: draft, title: draftTitle, version: script.version }),
    );
    if (!saved) return;
    adopt(saved);
    await loadVersions();
  });
  discardButton.addEventListener('click', () => adopt(script));
  approveButton.addEventListener('click', async () => {
    if (dirty) {
      showError(errors, new ApiError(0, 'UNSAVED', document.querySelector('.dirty-note').textContent, {}));
      return;
    }
    const approved = await busy(approveButton, errors, () =>
      api.post(`/api/scripts/${encodeURIComponent(scriptId)}/approve`, { version: script.version }),
    );
    if (!approved) return;
    adopt(approved);
    await loadVersions();
    renderPanel.scrollIntoView({ behavior: 'smooth', block: 'start' });
  });

  clear(main).append(
    heading,
    jobsNote,
    h('div', { class: 'sticky-actions' }, dirtyNote, errors, h('div', { class: 'actions' }, discardButton, saveButton, approveButton)),
    h('div', { class: 'review-layout' }, h('div', { class: 'review-main' }, editor), h('aside', { class: 'review-side' }, versionsPanel)),
    renderPanel,
  );
  adopt(script);
  await Promise.all([loadVersions(), loadJobs()]);
});
