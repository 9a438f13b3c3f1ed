// Schedules: the workspace's schedules with each item's status, and a form that schedules one video at a local time.

import { api } from '../api.js';
import { busy, clear, errorBox, field, h, loading, select, showError, translate } from '../dom.js';
import { renderOptionsForm } from '../components.js';
import { currentLanguage } from '../i18n.js';
import { pageHeading, startPage } from '../layout.js';

const LANGUAGES = [['ko', 'language.ko'], ['en', 'language.en']];
const SOURCES = [['text', 'schedules.sourceText'], ['topic', 'schedules.sourceTopic']];
const MAX_SOURCE_CHARS = 100000;
const REFRESH_MS = 5000;

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Where a person goes from an item: its script while it waits for review, its progress or its player after. */
function itemLink(item) {
  if (item.status === 'waiting_review' && item.script_id) {
    return h('a', { href: `/studio/scripts/${encodeURIComponent(item.script_id)}`, i18n: 'schedules.review' });
  }
  if (!item.video_id || !item.job_id) return null;
  const video = encodeURIComponent(item.video_id);
  if (item.status === 'completed') return h('a', { href: `/studio/videos/${video}`, i18n: 'schedules.watch' });
  return h('a', { href: `/studio/videos/${video}/progress`, i18n: 'schedules.progress' });
}

function itemRow(item) {
  return h(
    'tr',
    { dataset: { itemId: item.item_id, status: item.status } },
    h('td', {}, h('span', { text: item.title }), item.topic ? h('span', { class: 'muted small', text: ` · ${item.topic}` }) : null),
    h('td', { class: 'nowrap' }, h('span', { text: item.due_local.replace('T', ' ') }), h('span', { class: 'muted small', text: ` ${item.timezone}` })),
    h(
      'td',
      {},
      h('span', { class: `badge badge-${item.status.replaceAll('_', '-')}`, i18n: `itemStatus.${item.status}` }),
      item.error ? h('p', { class: 'error-message small', text: `${item.error.code}: ${item.error.message}` }) : null,
    ),
    h('td', {}, itemLink(item), item.published_url ? [' · ', h('a', { href: item.published_url, text: 'YouTube' })] : null),
  );
}

function scheduleCard(schedule, onDelete) {
  const remove = h('button', { type: 'button', class: 'link-button danger', i18n: 'schedules.delete' });
  const slot = h('div', { class: 'error-slot' });
  remove.addEventListener('click', () => busy(remove, slot, () => onDelete(schedule)));
  const cadence = schedule.kind === 'recurring'
    ? h('span', { class: 'badge badge-kind', i18n: 'schedules.cadence', i18nVars: { cron: schedule.cron, zone: schedule.timezone } })
    : h('span', { class: 'badge badge-kind', i18n: 'schedules.single' });
  return h(
    'section',
    { class: 'card schedule', dataset: { scheduleId: schedule.schedule_id } },
    h(
      'div',
      { class: 'page-heading' },
      h('h2', { text: schedule.name }),
      h(
        'p',
        { class: 'badges' },
        cadence,
        h('span', { class: 'badge', i18n: schedule.auto_approve ? 'schedules.autoApprove' : 'schedules.reviewFirst' }),
        schedule.enabled ? null : h('span', { class: 'badge badge-archived', i18n: 'schedules.paused' }),
        schedule.publish ? h('span', { class: 'badge', i18n: 'schedules.publishes', i18nVars: { privacy: schedule.publish.privacy } }) : null,
        remove,
      ),
    ),
    schedule.next_due_at
      ? h('p', { class: 'muted small' }, h('span', { i18n: 'schedules.nextDue' }), ' ', h('span', { datetime: schedule.next_due_at }))
      : null,
    schedule.items.length
      ? h(
          'table',
          { class: 'table' },
          h(
            'thead',
            {},
            h('tr', {}, ['schedules.title', 'schedules.due', 'schedules.status', 'schedules.open'].map((key) => h('th', { i18n: key }))),
          ),
          h('tbody', {}, schedule.items.map(itemRow)),
        )
      : h('p', { class: 'muted', i18n: 'schedules.noItems' }),
    schedule.queue.length ? h('p', { class: 'muted small', i18n: 'schedules.queued', i18nVars: { n: schedule.queue.length } }) : null,
    slot,
  );
}

function newItemForm(onCreated) {
  const title = h('input', { type: 'text', name: 'title', maxLength: 200, required: true, i18nAttrs: { placeholder: 'lesson.titlePlaceholder' } });
  const source = select(SOURCES, 'text');
  source.name = 'source';
  const text = h('textarea', { name: 'source_text', rows: 6, maxLength: MAX_SOURCE_CHARS, i18nAttrs: { placeholder: 'lesson.textPlaceholder' } });
  const topic = h('input', { type: 'text', name: 'topic', maxLength: 500, hidden: true, i18nAttrs: { placeholder: 'schedules.topicPlaceholder' } });
  source.addEventListener('change', () => {
    text.hidden = source.value !== 'text';
    topic.hidden = source.value !== 'topic';
  });
  const due = h('input', { type: 'datetime-local', name: 'due_at', required: true });
  const zone = h('input', { type: 'text', name: 'timezone', value: browserZone(), required: true });
  const language = select(LANGUAGES, currentLanguage());
  language.name = 'language';
  const autoApprove = h('input', { type: 'checkbox', name: 'auto_approve' });
  const render = renderOptionsForm({}, { language: language.value });
  language.addEventListener('change', () => render.setLanguage(language.value));
  const errors = h('div', { class: 'error-slot' });
  const submit = h('button', { type: 'submit', class: 'primary', i18n: 'schedules.submit' });
  const form = h(
    'form',
    { class: 'stack card', attrs: { id: 'new-item' } },
    h('h2', { i18n: 'schedules.newItem' }),
    field('lesson.title', title),
    field('schedules.source', source),
    text,
    topic,
    h('div', { class: 'options-grid' }, field('schedules.dueAt', due), field('schedules.timezone', zone, 'schedules.timezoneHint'), field('options.language', language)),
    h('label', { class: 'check' }, autoApprove, h('span', { i18n: 'schedules.autoApproveLabel' })),
    render.element,
    errors,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('input', () => showError(errors, null));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(submit, null, render.whenUploaded);
    const item = { title: title.value.trim(), due_at: due.value, timezone: zone.value.trim() };
    if (source.value === 'text') item.source_text = text.value;
    else item.topic = topic.value.trim();
    const body = {
      name: item.title,
      auto_approve: autoApprove.checked,
      options: { language: language.value },
      render: render.value(),
      items: [item],
    };
    const created = await busy(submit, errors, () => api.post('/api/schedules', body));
    if (created) {
      // Only what names the next video is cleared; its settings (zone, language, render options) stay.
      for (const control of [title, text, topic, due]) control.value = '';
      await onCreated(created);
    }
  });
  return form;
}

startPage(async (main) => {
  const list = h('div', { class: 'stack', attrs: { id: 'schedules' } }, loading());
  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    try {
      const schedules = await api.get('/api/schedules');
      clear(list).append(
        ...(schedules.length ? schedules.map((schedule) => scheduleCard(schedule, remove)) : [h('p', { class: 'muted', i18n: 'schedules.none' })]),
      );
    } catch (error) {
      clear(list).append(errorBox(error));
    }
    translate(list);
    timer = setTimeout(refresh, REFRESH_MS);
  }
  async function remove(schedule) {
    await api.del(`/api/schedules/${encodeURIComponent(schedule.schedule_id)}`);
    await refresh();
  }
  main.append(
    pageHeading('page.schedules'),
    h('p', { class: 'muted lead', i18n: 'schedules.intro' }),
    h('div', { class: 'schedules-layout' }, list, newItemForm(refresh)),
  );
  await refresh();
});
