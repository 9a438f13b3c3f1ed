// Player: the finished video with its subtitles and chapters, downloads of every asset, the review decision and
// timecoded comments.

import { api, assetUrl } from '../api.js';
import { busy, clear, errorBox, field, formatSeconds, h, loading, retranslate, showError, translate } from '../dom.js';
import { t } from '../i18n.js';
import { pageHeading, startPage } from '../layout.js';

const CHAPTER_LINE = /^\s*(?:(\d+):)?(\d{1,2}):(\d{2})\s+(.+)$/;

/** YouTube chapter lines ("0:00 Intro", "1:02:03 Later") as [{at, title}]. */
export function parseChapters(text) {
  return text
    .split('\n')
    .map((line) => CHAPTER_LINE.exec(line))
    .filter(Boolean)
    .map(([, hours, minutes, seconds, title]) => ({ at: Number(hours || 0) * 3600 + Number(minutes) * 60 + Number(seconds), title: title.trim() }));
}

/** A chapter's start as YouTube writes it: m:ss, or h:mm:ss past an hour. */
function chapterTime(seconds) {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(Math.floor(seconds % 60)).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

function humanBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}


startPage(async (main, { params, query, user }) => {
  const videoId = params.videoId;
  const videoPath = encodeURIComponent(videoId);
  const jobs = await api.get(`/api/videos/${videoPath}/render-jobs`);
  const wanted = query.get('job');
  const job = jobs.find((candidate) => candidate.job_id === wanted && candidate.status === 'COMPLETED') || jobs.find((candidate) => candidate.status === 'COMPLETED');
  if (!job) {
    main.append(
      pageHeading('page.player'),
      jobs.length
        ? h('p', { class: 'notice' }, h('span', { i18n: 'player.notReady' }), ' ', h('a', { href: `/studio/videos/${videoPath}/progress`, i18n: 'player.openProgress' }))
        : h('p', { class: 'notice', i18n: 'player.noVideo' }),
    );
    return;
  }
  const kinds = new Set(job.assets.map((asset) => asset.kind));
  const language = job.spec && job.spec.language ? job.spec.language : 'en';
  const video = h('video', { controls: true, preload: 'metadata', class: 'player-video', src: assetUrl(job.job_id, 'video') });
  if (kinds.has('thumbnail')) video.poster = assetUrl(job.job_id, 'thumbnail');
  if (kinds.has('subtitles_vtt')) {
    video.append(h('track', { kind: 'subtitles', src: assetUrl(job.job_id, 'subtitles_vtt'), srclang: language, default: true, i18nAttrs: { label: 'player.subtitles' } }));
  }
  const clock = h('span', { class: 'clock', text: '0:00.0' });
  video.addEventListener('timeupdate', () => {
    clock.textContent = formatSeconds(video.currentTime);
  });
  const seek = (seconds) => {
    video.currentTime = seconds;
    video.play().catch(() => {});
  };

  // Chapters
  const chapters = h('ol', { class: 'chapters-list' });
  if (kinds.has('chapters')) {
    try {
      const text = await api.get(assetUrl(job.job_id, 'chapters'));
      for (const chapter of parseChapters(String(text))) {
        chapters.append(h('li', {}, h('button', { type: 'button', class: 'link-button seek', on: { click: () => seek(chapter.at) } }, h('span', { class: 'time', text: chapterTime(chapter.at) }), chapter.title)));
      }
    } catch (error) {
      chapters.append(h('li', {}, errorBox(error)));
    }
  }
  if (!chapters.children.length) chapters.append(h('li', { class: 'muted', i18n: 'player.noChapters' }));

  // Downloads
  const downloads = h(
    'ul',
    { class: 'downloads' },
    job.assets.map((asset) =>
      h('li', {}, h('a', { href: assetUrl(job.job_id, asset.kind), download: '', class: 'download', dataset: { kind: asset.kind }, i18n: `asset.${asset.kind}` }), h('span', { class: 'muted', text: ` ${humanBytes(asset.size_bytes)}` })),
    ),
  );

  // Review
  const reviewState = h('div', { class: 'review-state' }, loading());
  const reason = h('textarea', { name: 'reason', rows: 2, i18nAttrs: { placeholder: 'review.reasonPlaceholder' } });
  const reviewErrors = h('div', { class: 'error-slot' });
  const approve = h('button', { type: 'button', class: 'primary approve-video', i18n: 'review.approve' });
  const reject = h('button', { type: 'button', class: 'danger reject-video', i18n: 'review.reject' });
  function showReview(summary) {
    clear(reviewState);
    if (!summary) return;
    reviewState.append(h('span', { class: `badge badge-${summary.review.toLowerCase()}`, i18n: `review.${summary.review}` }));
    if (summary.review_reason) reviewState.append(h('span', { class: 'muted', text: ` ${summary.review_reason}` }));
  }
  const decide = (decision, button) => async () => {
    const summary = await busy(button, reviewErrors, () => api.post(`/api/videos/${videoPath}/review`, { decision, reason: reason.value.trim() }));
    if (summary) {
      showReview(summary);
      translate(reviewState);
    }
  };
  approve.addEventListener('click', decide('APPROVED', approve));
  reject.addEventListener('click', decide('REJECTED', reject));
  api.get(`/api/videos/${videoPath}`).then(
    (summary) => {
      showReview(summary);
      translate(reviewState);
    },
    (error) => clear(reviewState).append(errorBox(error)),
  );

  // Comments
  const commentList = h('ul', { class: 'comments' });
  const commentText = h('textarea', { name: 'comment', rows: 2, maxLength: 2000, i18nAttrs: { placeholder: 'comments.placeholder' } });
  const atLabel = h('span', { class: 'hint', i18n: 'comments.at', i18nVars: { time: '0:00.0' } });
  video.addEventListener('timeupdate', () => retranslate(atLabel, 'comments.at', { time: formatSeconds(video.currentTime) }));
  const commentErrors = h('div', { class: 'error-slot' });
  const addComment = h('button', { type: 'button', class: 'primary add-comment', i18n: 'comments.add' });
  function commentItem(comment) {
    const resolved = h('input', { type: 'checkbox', checked: comment.resolved, class: 'resolve' });
    resolved.addEventListener('change', async () => {
      try {
        const updated = await api.patch(`/api/videos/${videoPath}/comments/${encodeURIComponent(comment.comment_id)}`, { resolved: resolved.checked });
        item.classList.toggle('resolved', updated.resolved);
      } catch (error) {
        resolved.checked = !resolved.checked;
        showError(commentErrors, error);
      }
    });
    const item = h(
      'li',
      { class: comment.resolved ? 'comment resolved' : 'comment', dataset: { commentId: comment.comment_id } },
      h('button', { type: 'button', class: 'time seek', text: formatSeconds(comment.at_sec), on: { click: () => seek(comment.at_sec) } }),
      h('div', { class: 'comment-body' }, h('p', { text: comment.text }), h('p', { class: 'muted small' }, h('span', { text: comment.author }), ' · ', h('span', { datetime: comment.created_at }))),
      h('label', { class: 'resolve-label' }, resolved, h('span', { i18n: 'comments.resolved' })),
    );
    return item;
  }
  async function loadComments() {
    try {
      const comments = await api.get(`/api/videos/${videoPath}/comments`);
      comments.sort((a, b) => a.at_sec - b.at_sec);
      clear(commentList).append(...comments.map(commentItem));
      if (!comments.length) commentList.append(h('li', { class: 'muted empty', i18n: 'comments.none' }));
      translate(commentList);
    } catch (error) {
      clear(commentList).append(errorBox(error));
    }
  }
  addComment.addEventListener('click', async () => {
    const text = commentText.value.trim();
    if (!text) return;
    const created = await busy(addComment, commentErrors, () => api.post(`/api/videos/${videoPath}/comments`, { at_sec: Math.round(video.currentTime * 10) / 10, text }));
    if (created) {
      commentText.value = '';
      await loadComments();
    }
  });

  const remove = h('button', { type: 'button', class: 'danger delete-video', i18n: 'player.delete' });
  const removeErrors = h('div', { class: 'error-slot' });
  remove.addEventListener('click', async () => {
    if (!window.confirm(t('player.deleteConfirm'))) return;
    const done = await busy(remove, removeErrors, async () => {
      await api.del(`/api/videos/${videoPath}`);
      return true;
    });
    if (done) window.location.assign('/studio/');
  });

  const title = job.spec && job.spec.title ? job.spec.title : videoId;
  main.append(
    h('div', { class: 'page-heading' }, h('p', { class: 'eyebrow', i18n: 'page.player' }), h('h1', { text: title }), h('p', { class: 'muted' }, h('span', { i18n: 'player.duration', i18nVars: { duration: formatSeconds(job.duration_sec) } }), ' · ', h('span', { datetime: job.updated_at }))),
    h(
      'div',
      { class: 'player-layout' },
      h('div', { class: 'player-main' }, h('div', { class: 'video-frame' }, video), h('div', { class: 'under-video' }, clock)),
      h(
        'aside',
        { class: 'player-side' },
        h('section', { class: 'card' }, h('h2', { i18n: 'player.chapters' }), chapters),
        h('section', { class: 'card' }, h('h2', { i18n: 'player.downloads' }), downloads),
      ),
    ),
    h(
      'div',
      { class: 'two-columns' },
      h('section', { class: 'card comments-card' }, h('h2', { i18n: 'comments.heading' }), commentList, field('comments.new', commentText), h('div', { class: 'actions left' }, atLabel, addComment), commentErrors),
      h(
        'section',
        { class: 'card review-card' },
        h('h2', { i18n: 'review.heading' }),
        reviewState,
        field('review.reason', reason),
        h('div', { class: 'actions left' }, approve, reject),
        reviewErrors,
        h('hr'),
        h('div', { class: 'actions left' }, remove),
        removeErrors,
      ),
    ),
  );
  await loadComments();
});
