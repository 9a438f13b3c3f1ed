// Account: who is signed in, their password (changed, their other sessions signed out), the workspace's YouTube
// channels (connected through Google's consent page, disconnected), API keys (created with scopes, the secret shown
// once, revoked), and for admins the workspace's users.

import { api } from '../api.js';
import { busy, clear, errorBox, field, h, loading, select, showError, translate } from '../dom.js';
import { t } from '../i18n.js';
import { pageHeading, startPage } from '../layout.js';

const SCOPES = ['read', 'scripts', 'render', 'uploads', 'publish', 'admin'];
const ROLES = [['member', 'role.member'], ['admin', 'role.admin']];

function keysSection(user) {
  const section = h('section', { class: 'card keys' });
  const table = h('div', { class: 'keys-table' }, loading());
  const name = h('input', { type: 'text', name: 'key_name', maxLength: 100, required: true, i18nAttrs: { placeholder: 'keys.namePlaceholder' } });
  const boxes = SCOPES.filter((scope) => scope !== 'admin' || user.role === 'admin').map((scope) =>
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'scope', value: scope, checked: scope === 'read' }), h('span', { i18n: `scope.${scope}` })),
  );
  const secret = h('div', { class: 'secret-slot' });
  const errors = h('div', { class: 'error-slot' });
  const create = h('button', { type: 'submit', class: 'primary create-key', i18n: 'keys.create' });

  async function load() {
    try {
      const keys = await api.get('/api/keys');
      clear(table).append(
        keys.length
          ? h(
              'table',
              { class: 'table' },
              h('thead', {}, h('tr', {}, ['keys.name', 'keys.scopes', 'keys.created', 'keys.lastUsed', 'keys.state', ''].map((key) => h('th', key ? { i18n: key } : {})))),
              h(
                'tbody',
                {},
                keys.map((key) => {
                  const revoke = h('button', { type: 'button', class: 'danger small revoke', i18n: 'keys.revoke', hidden: Boolean(key.revoked_at) });
                  revoke.addEventListener('click', async () => {
                    if (!window.confirm(t('keys.revokeConfirm', { name: key.name }))) return;
                    const done = await busy(revoke, errors, async () => {
                      await api.del(`/api/keys/${encodeURIComponent(key.key_id)}`);
                      return true;
                    });
                    if (done) await load();
                  });
                  return h(
                    'tr',
                    { dataset: { keyId: key.key_id } },
                    h('td', { text: key.name }),
                    h('td', {}, key.scopes.map((scope) => h('span', { class: 'badge badge-kind', i18n: `scope.${scope}` }))),
                    h('td', { datetime: key.created_at }),
                    key.last_used_at ? h('td', { datetime: key.last_used_at }) : h('td', { class: 'muted', i18n: 'keys.never' }),
                    h('td', {}, h('span', { class: key.revoked_at ? 'badge badge-failed' : 'badge badge-completed', i18n: key.revoked_at ? 'keys.revoked' : 'keys.active' })),
                    h('td', {}, revoke),
                  );
                }),
              ),
            )
          : h('p', { class: 'muted', i18n: 'keys.none' }),
      );
      translate(table);
    } catch (error) {
      clear(table).append(errorBox(error));
    }
  }

  const form = h('form', { class: 'inline-form' }, field('keys.name', name), h('div', { class: 'field' }, h('span', { class: 'field-label', i18n: 'keys.scopes' }), h('div', { class: 'checks' }, boxes)), h('div', { class: 'actions left' }, create));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(secret);
    const scopes = boxes.map((box) => box.querySelector('input')).filter((box) => box.checked).map((box) => box.value);
    const created = await busy(create, errors, () => api.post('/api/keys', { name: name.value.trim(), scopes }));
    if (!created) return;
    name.value = '';
    const value = h('code', { class: 'secret-value', text: created.secret });
    const copy = h('button', { type: 'button', class: 'small copy', i18n: 'keys.copy' });
    copy.addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText(created.secret));
    secret.append(h('div', { class: 'secret' }, h('p', { i18n: 'keys.secretOnce' }), h('div', { class: 'secret-row' }, value, copy)));
    translate(secret);
    await load();
  });
  section.append(h('h2', { i18n: 'keys.heading' }), h('p', { class: 'muted', i18n: 'keys.intro' }), table, h('h3', { i18n: 'keys.new' }), form, secret, errors);
  load();
  return section;
}

function passwordSection() {
  const section = h('section', { class: 'card password' });
  const current = h('input', { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password' });
  const chosen = h('input', { type: 'password', name: 'new_password', required: true, autocomplete: 'new-password', minLength: 10 });
  const repeated = h('input', { type: 'password', name: 'repeat_password', required: true, autocomplete: 'new-password', minLength: 10 });
  const errors = h('div', { class: 'error-slot' });
  const done = h('div', { class: 'done-slot' });
  const change = h('button', { type: 'submit', class: 'primary change-password', i18n: 'password.change' });
  const form = h('form', { class: 'inline-form' }, field('password.current', current), field('password.new', chosen, 'users.passwordHint'), field('password.repeat', repeated), h('div', { class: 'actions left' }, change));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(done);
    if (chosen.value !== repeated.value) {
      showError(errors, { code: 'VALIDATION_FAILED', message: t('password.mismatch') });
      return;
    }
    const changed = await busy(change, errors, async () => {
      await api.post('/api/me/password', { current_password: current.value, new_password: chosen.value });
      return true;
    });
    if (!changed) return;
    for (const input of [current, chosen, repeated]) input.value = '';
    done.append(h('p', { class: 'success', i18n: 'password.changed' }));
    translate(done);
  });
  section.append(h('h2', { i18n: 'password.heading' }), h('p', { class: 'muted', i18n: 'password.intro' }), form, errors, done);
  return section;
}

function channelsSection() {
  const section = h('section', { class: 'card channels' });
  const table = h('div', { class: 'channels-table' }, loading());
  const errors = h('div', { class: 'error-slot' });
  const connect = h('button', { type: 'button', class: 'primary connect-channel', i18n: 'channels.connect' });

  async function load() {
    try {
      const channels = await api.get('/api/channels');
      clear(table).append(
        channels.length
          ? h(
              'table',
              { class: 'table' },
              h('thead', {}, h('tr', {}, ['channels.title', 'channels.id', 'channels.connected', ''].map((key) => h('th', key ? { i18n: key } : {})))),
              h(
                'tbody',
                {},
                channels.map((channel) => {
                  const disconnect = h('button', { type: 'button', class: 'danger small disconnect', i18n: 'channels.disconnect' });
                  disconnect.addEventListener('click', async () => {
                    if (!window.confirm(t('channels.disconnectConfirm', { title: channel.title }))) return;
                    const done = await busy(disconnect, errors, async () => {
                      await api.del(`/api/channels/${encodeURIComponent(channel.channel_id)}`);
                      return true;
                    });
                    if (done) await load();
                  });
                  return h(
                    'tr',
                    { dataset: { channelId: channel.channel_id } },
                    h('td', { text: channel.title }),
                    h('td', {}, h('code', { text: channel.channel_id })),
                    h('td', { datetime: channel.connected_at }),
                    h('td', {}, disconnect),
                  );
                }),
              ),
            )
          : h('p', { class: 'muted', i18n: 'channels.none' }),
      );
      translate(table);
    } catch (error) {
      clear(table).append(errorBox(error));
    }
  }

  connect.addEventListener('click', async () => {
    const started = await busy(connect, errors, () => api.post('/api/channels/oauth/start', {}));
    if (started) window.location.assign(started.authorization_url);
  });
  section.append(h('h2', { i18n: 'channels.heading' }), h('p', { class: 'muted', i18n: 'channels.intro' }), table, h('div', { class: 'actions left' }, connect), errors);
  load();
  return section;
}

function usersSection(me) {
  const section = h('section', { class: 'card users' });
  const table = h('div', { class: 'users-table' }, loading());
  const email = h('input', { type: 'email', name: 'user_email', required: true, autocomplete: 'off' });
  const password = h('input', { type: 'password', name: 'user_password', required: true, autocomplete: 'new-password', minLength: 10 });
  const role = select(ROLES, 'member');
  role.name = 'user_role';
  const workspace = select([['own', 'users.ownWorkspace'], ['mine', 'users.myWorkspace']], 'own');
  workspace.name = 'user_workspace';
  const errors = h('div', { class: 'error-slot' });
  const create = h('button', { type: 'submit', class: 'primary create-user', i18n: 'users.create' });

  async function load() {
    try {
      const users = await api.get('/api/users');
      clear(table).append(
        h(
          'table',
          { class: 'table' },
          h('thead', {}, h('tr', {}, ['users.email', 'users.role', 'users.workspace', 'users.created'].map((key) => h('th', { i18n: key })))),
          h('tbody', {}, users.map((user) => h('tr', { dataset: { userId: user.user_id } }, h('td', { text: user.email }), h('td', {}, h('span', { class: 'badge badge-kind', i18n: `role.${user.role}` })), h('td', {}, h('code', { text: user.workspace_id })), h('td', { datetime: user.created_at })))),
        ),
      );
      translate(table);
    } catch (error) {
      clear(table).append(errorBox(error));
    }
  }

  const form = h('form', { class: 'inline-form' }, field('users.email', email), field('users.password', password, 'users.passwordHint'), field('users.role', role), field('users.workspace', workspace), h('div', { class: 'actions left' }, create));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(errors, null);
    const body = { email: email.value.trim(), password: password.value, role: role.value };
    if (workspace.value === 'mine') body.workspace_id = me.workspace_id;
    const created = await busy(create, errors, () => api.post('/api/users', body));
    if (!created) return;
    email.value = '';
    password.value = '';
    await load();
  });
  section.append(h('h2', { i18n: 'users.heading' }), table, h('h3', { i18n: 'users.new' }), form, errors);
  load();
  return section;
}

startPage(async (main, { user }) => {
  main.append(
    pageHeading('page.account'),
    h(
      'section',
      { class: 'card me' },
      h('h2', { i18n: 'account.me' }),
      h(
        'dl',
        { class: 'facts' },
        h('dt', { i18n: 'account.email' }), h('dd', { text: user.email }),
        h('dt', { i18n: 'account.role' }), h('dd', {}, h('span', { class: 'badge badge-kind', i18n: `role.${user.role}` })),
        h('dt', { i18n: 'account.workspace' }), h('dd', {}, h('code', { text: user.workspace_id })),
      ),
    ),
    passwordSection(),
    channelsSection(),
    keysSection(user),
  );
  if (user.role === 'admin') main.append(usersSection(user));
});
