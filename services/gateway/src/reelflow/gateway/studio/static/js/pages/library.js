// Library: every video of the workspace with its state, review, thumbnail, duration and date; filters, search
// and pages.

import { api } from '../api.js';
import { clear, errorBox, field, formatSeconds, h, loading, select, translate } from '../dom.js';
import { pageHeading, startPage } from '../layout.js';

const PAGE_SIZE = 12;
const STATES = ['', 'SCRIPT', 'QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELED'];
const REVIEWS = ['', 'PENDING', 'APPROVED', 'REJECTED'];
const ACTIVE = new Set(['QUEUED', 'PROCESSING']);
const SEARCH_DELAY_MS = 300;

function destinationOf(video) {
  const id = encodeURIComponent(video.video_id);
  if (video.state === 'SCRIPT' && video.latest_script_id) return `/studio/scripts/${encodeURIComponent(video.latest_script_id)}`;
  if (ACTIVE.has(video.state) || video.state === 'FAILED' || video.state === 'CANCELED') return `/studio/videos/${id}/progress`;
  return `/studio/videos/${id}`;
}

function videoCard(video) {
  const picture = video.thumbnail_url
    ? h('img', { src: video.thumbnail_url, alt: '', loading: 'lazy', class: 'thumb' })
    : h('div', { class: `thumb thumb-empty thumb-${video.kind}`, attrs: { 'aria-hidden': 'true' }, text: video.kind === 'ranking' ? '#' : '▶' });
  return h(
    'li',
    { class: 'video-card', dataset: { videoId: video.video_id } },
    h(
      'a',
      { href: destinationOf(video), class: 'video-link' },
      picture,
      h(
        'div',
        { class: 'video-info' },
        h('p', { class: 'video-title', text: video.title || video.video_id }),
        h(
          'p',
          { class: 'badges' },
          h('span', { class: `badge badge-${video.state.toLowerCase()}`, i18n: `status.${video.state}` }),
          h('span', { class: `badge badge-${video.review.toLowerCase()}`, i18n: `review.${video.review}` }),
          h('span', { class: 'badge badge-kind', i18n: `kind.${video.kind}` }),
        ),
        h(
          'p',
          { class: 'muted small' },
          h('span', { text: video.duration_sec ? formatSeconds(video.duration_sec) : '–' }),
          ' · ',
          h('span', { datetime: video.updated_at || video.created_at }),
        ),
      ),
    ),
  );
}

startPage(async (main, { query }) => {
  const state = select(STATES.map((s) => [s, s ? `status.${s}` : 'library.anyState']), query.get('state') || '');
  state.name = 'state';
  const review = select(REVIEWS.map((r) => [r, r ? `review.${r}` : 'library.anyReview']), query.get('review') || '');
  review.name = 'review';
  const search = h('input', { type: 'search', name: 'q', value: query.get('q') || '', i18nAttrs: { placeholder: 'library.searchPlaceholder' } });
  const grid = h('ul', { class: 'video-grid' });
  const pager = h('div', { class: 'pager' });
  const cursors = [null];
  let page = 0;

  async function load() {
    clear(grid).append(h('li', {}, loading()));
    clear(pager);
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state.value) params.set('state', state.value);
    if (review.value) params.set('review', review.value);
    if (search.value.trim()) params.set('q', search.value.trim());
    if (cursors[page]) params.set('cursor', cursors[page]);
    let answer;
    try {
      answer = await api.get(`/api/videos?${params}`);
    } catch (error) {
      clear(grid).append(h('li', {}, errorBox(error)));
      return;
    }
    clear(grid);
    if (!answer.items.length) {
      grid.append(
        h(
          'li',
          { class: 'empty-state' },
          h('p', { i18n: page === 0 && !params.has('state') && !params.has('review') && !params.has('q') ? 'library.empty' : 'library.noMatch' }),
          h('p', {}, h('a', { class: 'button primary', href: '/studio/new', i18n: 'nav.newLesson' }), ' ', h('a', { class: 'button', href: '/studio/ranking', i18n: 'nav.ranking' })),
        ),
      );
    }
    grid.append(...answer.items.map(videoCard));
    cursors[page + 1] = answer.next_cursor;
    const previous = h('button', { type: 'button', class: 'previous', i18n: 'library.previous', disabled: page === 0 });
    const next = h('button', { type: 'button', class: 'next', i18n: 'library.next', disabled: !answer.next_cursor });
    previous.addEventListener('click', () => {
      page -= 1;
      load();
    });
    next.addEventListener('click', () => {
      page += 1;
      load();
    });
    if (page > 0 || answer.next_cursor) pager.append(previous, h('span', { class: 'muted', i18n: 'library.page', i18nVars: { n: page + 1 } }), next);
    translate(grid);
  }

  function restart() {
    page = 0;
    cursors.length = 1;
    const shown = new URLSearchParams();
    if (state.value) shown.set('state', state.value);
    if (review.value) shown.set('review', review.value);
    if (search.value.trim()) shown.set('q', search.value.trim());
    window.history.replaceState(null, '', `/studio/${shown.toString() ? `?${shown}` : ''}`);
    load();
  }

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(restart, SEARCH_DELAY_MS);
  });
  state.addEventListener('change', restart);
  review.addEventListener('change', restart);
  main.append(
    pageHeading('page.library', undefined, h('a', { class: 'button primary', href: '/studio/new', i18n: 'nav.newLesson' })),
    h('form', { class: 'filters', on: { submit: (event) => { event.preventDefault(); restart(); } } }, field('library.search', search), field('library.state', state), field('library.review', review)),
    grid,
    pager,
  );
  await load();
});
