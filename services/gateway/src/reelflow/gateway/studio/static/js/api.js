// The one way the studio talks to the gateway: JSON requests with the session cookie, the CSRF token on every
// change, the API's error body as an ApiError, and a 401 sending the person to the sign-in page.

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SIGN_IN_PATH = '/studio/login';

let csrfToken = null;
let currentUser = null;

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export function signedInUser() {
  return currentUser;
}

function remember(session) {
  csrfToken = session.csrf_token;
  currentUser = session.user;
  return session;
}

export function goToSignIn() {
  if (window.location.pathname === SIGN_IN_PATH) return;
  const next = window.location.pathname + window.location.search;
  window.location.assign(`${SIGN_IN_PATH}?next=${encodeURIComponent(next)}`);
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && body.error ? body.error : null;
  if (error) return new ApiError(response.status, error.code, error.message, error.details);
  return new ApiError(response.status, `HTTP_${response.status}`, response.statusText || 'request failed', {});
}

function headersFor(method, extra) {
  const headers = { Accept: 'application/json', ...extra };
  if (UNSAFE_METHODS.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  return headers;
}

/** Send one request; answers the parsed JSON (null for 204), or throws an ApiError with the API's code. */
export async function request(method, path, { json, headers = {}, redirectOn401 = true, accept = [] } = {}) {
  const init = { method, credentials: 'same-origin', headers: headersFor(method, headers) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    throw new ApiError(0, 'NETWORK', `the gateway did not answer (${cause.message})`, {});
  }
  if (response.status === 401 && redirectOn401) {
    goToSignIn();
  }
  if (!response.ok && !accept.includes(response.status)) throw await errorOf(response);
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await response.json() : await response.text();
  return accept.length ? { status: response.status, data, headers: response.headers } : data;
}

/** GET a file the page plays (a voice sample) with the session cookie: a Blob, or the API's error as an ApiError. */
export async function getAudio(path) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'audio/*, application/json' } });
  } catch (cause) {
    throw new ApiError(0, 'NETWORK', `the gateway did not answer (${cause.message})`, {});
  }
  if (response.status === 401) goToSignIn();
  if (!response.ok) throw await errorOf(response);
  return response.blob();
}

export const api = {
  get: (path, options) => request('GET', path, options),
  post: (path, json, options) => request('POST', path, { ...options, json }),
  put: (path, json, options) => request('PUT', path, { ...options, json }),
  patch: (path, json, options) => request('PATCH', path, { ...options, json }),
  del: (path, options) => request('DELETE', path, options),
};

export async function whoAmI({ redirectOn401 = true } = {}) {
  return remember(await request('GET', '/api/me', { redirectOn401 }));
}

export async function signIn(email, password) {
  return remember(await request('POST', '/api/auth/login', { json: { email, password }, redirectOn401: false }));
}

export async function signOut() {
  await request('POST', '/api/auth/logout', { redirectOn401: false });
  csrfToken = null;
  currentUser = null;
}

/** Upload one file to POST /api/uploads, reporting progress as a 0..1 fraction; answers UploadedMedia. */
export function uploadFile(file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/uploads');
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
        return;
      }
      if (xhr.status === 401) goToSignIn();
      const error = body && body.error ? body.error : { code: `HTTP_${xhr.status}`, message: xhr.statusText };
      reject(new ApiError(xhr.status, error.code, error.message, error.details));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'NETWORK', 'the upload was interrupted', {})));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** Follow a video's render progress over the WebSocket; answers the socket (close it to stop). */
export function followRenderProgress(videoId, { onMessage, onClose }) {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const url = `${scheme}://${window.location.host}/ws/videos/${encodeURIComponent(videoId)}/render-progress`;
  const socket = new WebSocket(url);
  socket.addEventListener('message', (event) => {
    try {
      onMessage(JSON.parse(event.data));
    } catch {
      // A frame that is not JSON carries nothing the page can show.
    }
  });
  socket.addEventListener('close', (event) => onClose(event));
  return socket;
}

export function assetUrl(jobId, kind) {
  return `/api/assets/${encodeURIComponent(jobId)}/${encodeURIComponent(kind)}`;
}
