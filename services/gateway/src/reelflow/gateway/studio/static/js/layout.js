// What every page shares: the header (navigation, language switch, who is signed in), then the page's own body.

import { signOut, whoAmI } from './api.js';
import { chooseLanguage, currentLanguage, t } from './i18n.js';
import { clear, errorBox, h, translate } from './dom.js';

const NAVIGATION = [
  ['library', '/studio/', 'nav.library'],
  ['new-lesson', '/studio/new', 'nav.newLesson'],
  ['ranking', '/studio/ranking', 'nav.ranking'],
  ['schedules', '/studio/schedules', 'nav.schedules'],
  ['account', '/studio/account', 'nav.account'],
];

function setTitle() {
  document.title = `${t(document.body.dataset.titleKey)} · reelflow studio`;
}

function buildHeader(signedIn) {
  const nav = document.getElementById('nav');
  const page = document.body.dataset.page;
  if (signedIn) {
    nav.replaceChildren(
      ...NAVIGATION.map(([name, href, key]) =>
        h('a', { href, i18n: key, class: name === page ? 'active' : '', attrs: name === page ? { 'aria-current': 'page' } : {} }),
      ),
    );
  }
  const switcher = document.getElementById('lang-switch');
  switcher.value = currentLanguage();
  switcher.addEventListener('change', () => {
    chooseLanguage(switcher.value);
    translate(document.body);
    setTitle();
    document.dispatchEvent(new CustomEvent('studio:language'));
  });
}

/** Build the page: check the session (a signed-out person is sent to sign in), then call render(main, context). */
export async function startPage(render) {
  document.documentElement.lang = currentLanguage();
  const signedIn = document.body.dataset.signedIn === 'yes';
  buildHeader(signedIn);
  translate(document.body);
  setTitle();
  const main = document.getElementById('main');
  let user = null;
  if (signedIn) {
    try {
      user = (await whoAmI()).user;
    } catch (error) {
      if (error.status !== 401) clear(main).append(errorBox(error));
      return;
    }
    document.getElementById('who').textContent = user.email;
    const out = document.getElementById('sign-out');
    out.hidden = false;
    out.addEventListener('click', async () => {
      try {
        await signOut();
      } finally {
        window.location.assign('/studio/login');
      }
    });
  }
  const params = { ...document.body.dataset };
  try {
    await render(clear(main), { user, params, query: new URLSearchParams(window.location.search) });
  } catch (error) {
    if (!main.querySelector('h1')) main.prepend(pageHeading(document.body.dataset.titleKey));
    main.append(errorBox(error));
  }
  translate(main);
}

export function pageHeading(key, vars, ...extra) {
  return h('div', { class: 'page-heading' }, h('h1', { i18n: key, i18nVars: vars }), ...extra);
}
