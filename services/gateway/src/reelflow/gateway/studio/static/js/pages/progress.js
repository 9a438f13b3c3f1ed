// Live progress of a video's latest render job over the WebSocket: its steps, its percentage, and how it ended.

import { api, followRenderProgress } from '../api.js';
import { busy, clear, errorBox, h, retranslate, showError } from '../dom.js';
import { progressBar } from '../components.js';
import { pageHeading, startPage } from '../layout.js';

const LESSON_STEPS = ['VALIDATE_SCRIPT', 'GENERATE_TTS', 'GENERATE_SUBTITLE', 'RENDER_SLIDES', 'COMPOSE_VIDEO', 'UPLOAD_ASSETS', 'PUBLISH', 'FINALIZE'];
// A short has no narration, subtitles or slides of its own: its clips are checked, then cut and joined in one pass.
const RANKING_STEPS = ['VALIDATE_SCRIPT', 'COMPOSE_VIDEO', 'UPLOAD_ASSETS', 'PUBLISH', 'FINALIZE'];
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELED']);
const POLL_MS = 2000;

startPage(async (main, { params, query }) => {
  const videoId = params.videoId;
  const videoPath = encodeURIComponent(videoId);
  const jobs = await api.get(`/api/videos/${videoPath}/render-jobs`);
  const wanted = query.get('job');
  let job = jobs.find((candidate) => candidate.job_id === wanted) || jobs[0];
  if (!job) {
    // The socket waits for the video's first job (a script still being written, say), then follows it.
    main.append(pageHeading('page.progress'), h('p', { class: 'notice waiting' }, h('span', { class: 'loading', i18n: 'progress.waiting' })));
    const waiting = followRenderProgress(videoId, {
      onMessage: (frame) => {
        if (frame && frame.data && frame.data.job_id) {
          waiting.close();
          window.location.replace(`/studio/videos/${videoPath}/progress?job=${encodeURIComponent(frame.data.job_id)}`);
        }
      },
      onClose: () => {},
    });
    return;
  }
  const publishes = Boolean(job.spec && job.spec.publish);
  const ranking = Boolean(job.spec && job.spec.template === 'ranking');
  const steps = (ranking ? RANKING_STEPS : LESSON_STEPS).filter((step) => step !== 'PUBLISH' || publishes);
  const stepKey = (step) => (ranking && step === 'VALIDATE_SCRIPT' ? 'step.ranking.VALIDATE_SCRIPT' : `step.${step}`);
  const bar = progressBar();
  const percent = h('span', { class: 'percent', text: '0%' });
  const statusLine = h('span', { class: 'status-line', i18n: `status.${job.status}` });
  const message = h('p', { class: 'muted step-message' });
  const stepItems = new Map(steps.map((step) => [step, h('li', { class: 'step', dataset: { step } }, h('span', { class: 'step-dot' }), h('span', { i18n: stepKey(step) }))]));
  const outcome = h('div', { class: 'outcome' });
  const errors = h('div', { class: 'error-slot' });
  const cancel = h('button', { type: 'button', class: 'danger cancel', i18n: 'progress.cancel' });
  let socket = null;
  let poller = null;
  let finished = false;

  function show(update) {
    const progress = update.progress ?? 0;
    bar.set(progress);
    percent.textContent = `${progress}%`;
    retranslate(statusLine, `status.${update.status}`);
    // The services' own words for the step in progress (not translated); once the job has ended the status says it.
    message.textContent = TERMINAL.has(update.status) ? '' : update.message || '';
    const current = update.step ? steps.indexOf(update.step) : -1;
    steps.forEach((step, index) => {
      const item = stepItems.get(step);
      item.classList.toggle('done', update.status === 'COMPLETED' || (current >= 0 && index < current));
      item.classList.toggle('current', index === current && !TERMINAL.has(update.status));
      item.classList.toggle('failed', index === current && update.status === 'FAILED');
    });
    if (TERMINAL.has(update.status)) finish(update);
  }

  function finish(update) {
    if (finished) return;
    finished = true;
    cancel.hidden = true;
    if (socket) socket.close();
    if (poller) clearInterval(poller);
    clear(outcome);
    if (update.status === 'COMPLETED') {
      outcome.append(
        h('p', { class: 'success', i18n: 'progress.completed' }),
        h('a', { class: 'button primary open-player', href: `/studio/videos/${videoPath}?job=${encodeURIComponent(update.job_id)}`, i18n: 'progress.openPlayer' }),
      );
      return;
    }
    bar.fail();
    // A job canceled by a person carries no error of its own: say what happened in the studio's words.
    const failure = update.error
      ? errorBox(update.error)
      : h('div', { class: 'error', attrs: { role: 'alert' } }, h('strong', { class: 'error-code', text: update.status }), h('span', { class: 'error-message', i18n: `progress.noDetail.${update.status}` }));
    const retry = h('button', { type: 'button', class: 'primary retry', i18n: 'progress.retry' });
    retry.addEventListener('click', async () => {
      const retried = await busy(retry, errors, () => api.post(`/api/render-jobs/${encodeURIComponent(update.job_id)}/retry`));
      if (retried) window.location.assign(`/studio/videos/${videoPath}/progress?job=${encodeURIComponent(retried.job_id)}`);
    });
    outcome.append(h('p', { class: 'failure', i18n: `progress.ended.${update.status}` }), failure, h('div', { class: 'actions left' }, retry));
  }

  async function pollJob() {
    try {
      const latest = await api.get(`/api/render-jobs/${encodeURIComponent(job.job_id)}`);
      show({ ...latest, step: latest.step, message: '' });
    } catch (error) {
      showError(errors, error);
    }
  }

  function follow() {
    socket = followRenderProgress(videoId, {
      onMessage: (frame) => {
        if (!frame || !frame.data) return;
        if (frame.data.job_id && frame.data.job_id !== job.job_id) return;
        show(frame.data);
      },
      onClose: () => {
        // The socket closes after the final status; if it closed early, keep up by reading the job instead.
        if (!finished && !poller) poller = setInterval(pollJob, POLL_MS);
      },
    });
  }

  cancel.addEventListener('click', () => busy(cancel, errors, () => api.post(`/api/render-jobs/${encodeURIComponent(job.job_id)}/cancel`)));
  const kind = ranking ? 'progress.kind.ranking' : 'progress.kind.lesson';
  main.append(
    pageHeading('page.progress'),
    h(
      'section',
      { class: 'card progress-card' },
      h('p', { class: 'eyebrow' }, h('span', { i18n: kind }), h('span', { class: 'muted', text: ` · ${job.spec && job.spec.title ? job.spec.title : videoId}` })),
      h('div', { class: 'progress-head' }, statusLine, percent),
      bar.element,
      message,
      h('ol', { class: 'steps' }, [...stepItems.values()]),
      outcome,
      errors,
      h('div', { class: 'actions left' }, cancel),
    ),
  );
  show(job);
  if (!finished) follow();
});
