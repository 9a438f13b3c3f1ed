// Sign in with email and password; on success go where the person was headed (only ever a studio page).

import { signIn, whoAmI } from '../api.js';
import { busy, h } from '../dom.js';
import { startPage } from '../layout.js';

function destination(query) {
  const next = query.get('next') || '';
  return next.startsWith('/studio/') && !next.startsWith('//') ? next : '/studio/';
}

startPage(async (main, { query }) => {
  try {
    await whoAmI({ redirectOn401: false });
    window.location.replace(destination(query));
    return;
  } catch {
    // Not signed in: show the form.
  }
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, id: 'email' });
  const password = h('input', {
    type: 'password', name: 'password', autocomplete: 'current-password', required: true, id: 'password',
  });
  const errors = h('div', { class: 'error-slot' });
  const submit = h('button', { type: 'submit', class: 'primary', i18n: 'login.submit' });
  const form = h(
    'form',
    { class: 'card login-card', attrs: { novalidate: '' } },
    h('h1', { i18n: 'login.heading' }),
    h('p', { class: 'muted', i18n: 'login.intro' }),
    h('label', { class: 'field' }, h('span', { class: 'field-label', i18n: 'login.email' }), email),
    h('label', { class: 'field' }, h('span', { class: 'field-label', i18n: 'login.password' }), password),
    errors,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const done = await busy(submit, errors, async () => {
      await signIn(email.value.trim(), password.value);
      return true;
    });
    if (done) window.location.assign(destination(query));
  });
  main.classList.add('narrow');
  main.append(form);
  email.focus();
});
