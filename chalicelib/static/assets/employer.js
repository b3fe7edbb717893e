// Employer console: API key (this tab only), linked accounts with sync health, connect, sync now,
// applications, email notifications, Embloy token.
import { ApiError, api, cleanMessage, dateTime, h, humanError, humanize } from "./api.js";
import { clearApplications, showApplications } from "./employer-applications.js";

// sessionStorage: survives a reload of this tab and is gone when the tab closes (never persistent storage).
const KEY_STORAGE = "job-board.employer-key";

const keyForm = document.getElementById("key-form");
const keyInput = document.getElementById("api-key");
const keyStatus = document.getElementById("key-status");
const forgetButton = document.getElementById("forget-key");
const signedIn = document.getElementById("signed-in");
const consoleBox = document.getElementById("console");
const accountsList = document.getElementById("accounts");
const accountsStatus = document.getElementById("accounts-status");
const connectForm = document.getElementById("connect-form");
const connectStatus = document.getElementById("connect-status");
const hubContainer = document.getElementById("hub-container");
const embloyForm = document.getElementById("embloy-form");
const embloyState = document.getElementById("embloy-state");
const embloyInput = document.getElementById("embloy-token");
const embloyError = document.getElementById("embloy-token-error");
const embloyDelete = document.getElementById("embloy-delete");
const notificationsForm = document.getElementById("notifications-form");
const notificationsState = document.getElementById("notifications-state");
const notificationEmail = document.getElementById("notification-email");
const notificationDigest = document.getElementById("notification-digest");
const notificationEmailError = document.getElementById("notification-email-error");
const notificationDigestError = document.getElementById("notification-digest-error");

let apiKey = "";

function readStoredKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

function storeKey(value) {
  try {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled: the key stays in memory only.
  }
}

function employerApi(path, options = {}) {
  return api(path, { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${apiKey}` } });
}

function handleAuthError(exc) {
  if (exc instanceof ApiError && exc.status === 401) {
    forget("That API key was not accepted. Check it and paste it again.");
    return true;
  }
  return false;
}

function forget(message) {
  apiKey = "";
  storeKey("");
  keyInput.value = "";
  consoleBox.hidden = true;
  forgetButton.hidden = true;
  signedIn.hidden = true;
  keyForm.hidden = false;
  clearApplications();
  keyStatus.textContent = message || "Key forgotten.";
  keyInput.focus();
}

// Every time shown names its time zone (the reader's own).
function formatTime(value) {
  return value ? dateTime(value, "unknown") : "never";
}

// While a broken link's grace period runs, the postings stay; after the deadline they have left.
function graceNote(account, attention) {
  const deadline = attention && attention.postings_close_at;
  if (!deadline) return null;
  const live = Number((account.sync || {}).live_postings || 0);
  if (new Date(deadline).getTime() > Date.now() && live > 0) {
    const postings = `${live} posting${live === 1 ? "" : "s"}`;
    return h("p", { class: "grace", role: "note" },
      `Your ${postings} stay${live === 1 ? "s" : ""} on the board until `, h("strong", { text: formatTime(deadline) }),
      ". Reconnect before then, or they leave the board.");
  }
  return h("p", { class: "grace", role: "note" },
    "Your postings left the board on ", h("strong", { text: formatTime(deadline) }),
    ". Reconnect and they come back with the next sync.");
}

function healthOf(account) {
  const sync = account.sync || {};
  if (account.needs_attention) return ["attention", "Needs attention"];
  const outcome = String(sync.last_outcome || "").toLowerCase();
  if (!outcome) return ["pending", "Not synced yet"];
  if (/fail|error/.test(outcome)) return ["failing", `Last sync: ${humanize(outcome)}`];
  if (/partial|running|queued/.test(outcome)) return ["pending", `Last sync: ${humanize(outcome)}`];
  return ["ok", `Last sync: ${humanize(outcome)}`];
}

function accountItem(account) {
  const sync = account.sync || {};
  const [health, healthText] = healthOf(account);
  const name = account.provider_name || humanize(account.provider) || "ATS";
  const details = h("dl", { class: "account-details" },
    h("dt", { text: "Status" }), h("dd", { text: humanize(account.status) || "unknown" }),
    h("dt", { text: "Last sync started" }), h("dd", { text: formatTime(sync.last_run_started_at) }),
    h("dt", { text: "Last sync finished" }), h("dd", { text: formatTime(sync.last_run_finished_at) }),
    h("dt", { text: "Live postings" }), h("dd", { class: "live-postings", text: String(sync.live_postings ?? 0) }),
  );
  if (sync.last_error) details.append(h("dt", { text: "Last error" }), h("dd", { class: "error-text", text: String(sync.last_error) }));
  const attention = account.attention && account.attention.reason ? account.attention : null;
  // The attention reason already quotes StackOne's reasons: list only those it does not (once each).
  const reasons = [...new Set((Array.isArray(account.status_reasons) ? account.status_reasons : [])
    .map((reason) => reason && (reason.description || reason.code))
    .filter(Boolean))]
    .filter((text) => !(attention && attention.reason.includes(text)));
  const status = h("p", { class: "sync-result", role: "status", "aria-live": "polite" });
  const reconnect = attention && attention.action === "reconnect";
  const syncButton = h("button", {
    type: "button",
    class: reconnect ? "sync-now secondary" : "sync-now",
    text: "Sync now",
    "aria-label": `Sync ${name} account now`,
    onclick: (event) => syncNow(account, event.currentTarget, status),
  });
  // An account that needs reconnecting gets that as its primary action; syncing it first would fail.
  const actions = h("div", { class: "button-row" },
    reconnect ? h("button", {
      type: "button",
      class: "reconnect",
      text: "Reconnect",
      "aria-label": `Reconnect ${name}`,
      onclick: () => connect({ provider: account.provider, account_id: account.account_id }, status),
    }) : null,
    syncButton);
  return h("li", { class: `account health-${health}`, dataset: { accountId: account.account_id } },
    h("h3", {}, name, account.label ? h("span", { class: "hint", text: ` · ${account.label}` }) : null),
    h("p", { class: `health-badge ${health}` }, h("span", { class: "dot", "aria-hidden": "true" }), healthText),
    attention ? h("p", { class: "attention", role: "note" }, h("strong", { text: "What to do: " }), attention.reason) : null,
    graceNote(account, attention),
    reasons.length ? h("ul", { class: "reasons" }, reasons.map((text) => h("li", { text }))) : null,
    details, actions, status);
}

async function loadAccounts() {
  accountsStatus.textContent = "Loading accounts…";
  try {
    const response = await employerApi("/accounts");
    const accounts = Array.isArray(response) ? response : (response && response.data) || [];
    accountsList.replaceChildren(...accounts.map(accountItem));
    accountsStatus.textContent = accounts.length
      ? `${accounts.length} linked account${accounts.length === 1 ? "" : "s"}.`
      : "No ATS linked yet. Connect one below.";
    return true;
  } catch (exc) {
    if (handleAuthError(exc)) return false;
    const { message, retry } = humanError(exc);
    accountsStatus.replaceChildren(`We couldn't load your accounts. ${message} `);
    if (retry) accountsStatus.append(h("button", { type: "button", class: "link-button", text: "Retry", onclick: () => loadAccounts() }));
    return true;
  }
}

async function syncNow(account, button, status) {
  button.disabled = true;
  status.textContent = "Requesting a sync…";
  try {
    await employerApi(`/accounts/${encodeURIComponent(account.account_id)}/sync`, { method: "POST", body: {} });
    status.textContent = "Sync queued. Postings update within a few minutes.";
  } catch (exc) {
    if (handleAuthError(exc)) return;
    if (exc instanceof ApiError && exc.code === "reconnect_required") {
      status.textContent = "Reconnect this account first: your ATS refuses the board's access until you do.";
    } else {
      status.textContent = exc instanceof ApiError && exc.status === 429
        ? "A sync was requested moments ago. Try again in a minute."
        : `We couldn't queue a sync. ${humanError(exc).message}`;
    }
  } finally {
    button.disabled = false;
  }
}

// Set while the Hub is open in another tab: coming back to this tab refreshes the accounts, which also
// starts the first sync of a newly linked account.
let hubPending = false;

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && hubPending && apiKey) {
    hubPending = false;
    loadAccounts();
  }
});

// The connect status and the Hub link sit together; bring them into view and move focus there.
function revealHub(focusTarget) {
  hubContainer.scrollIntoView({ block: "center" });
  if (focusTarget) focusTarget.focus({ preventScroll: true });
}

async function connect(body, statusLine = connectStatus) {
  statusLine.textContent = "Starting a secure connect session…";
  if (statusLine !== connectStatus) connectStatus.textContent = "";
  hubContainer.replaceChildren();
  try {
    const session = await employerApi("/connect-sessions", { method: "POST", body });
    if (window.customElements && customElements.get("stackone-hub")) {
      // The StackOne Hub web component, when the deployment ships it, embeds the flow in the page.
      const hub = document.createElement("stackone-hub");
      hub.setAttribute("token", session.token);
      hub.setAttribute("mode", "integration-picker");
      // The component emits `success` with {id, provider} when an account is linked, and `close`.
      hub.addEventListener("success", () => {
        connectStatus.textContent = "Your ATS is connected. Its postings appear after the next sync.";
        loadAccounts();
      });
      hub.addEventListener("close", () => hub.remove());
      hubContainer.append(hub);
      connectStatus.textContent = "Finish connecting your ATS below.";
      if (statusLine !== connectStatus) statusLine.textContent = "Continue in the StackOne Hub below.";
      revealHub(null);
      return;
    }
    const url = String(session.auth_link_url || "");
    if (!/^https?:\/\//i.test(url)) throw new Error("The connect session has no link.");
    // With "noopener" window.open returns null even when the tab opened, so say nothing about blocking:
    // offer the link, which works either way.
    window.open(url, "_blank", "noopener");
    hubPending = true;
    const link = h("a", { href: url, target: "_blank", rel: "noopener noreferrer", id: "hub-link", text: "Open the StackOne Hub" });
    hubContainer.append(h("p", {},
      "The StackOne Hub opens in a new tab. If you don't see it, ",
      link,
      ". When you have finished, ",
      h("button", { type: "button", class: "link-button", text: "refresh your accounts", onclick: () => loadAccounts() }),
      " (the first sync starts by itself)."));
    connectStatus.textContent = session.expires_at ? `This link works until ${formatTime(session.expires_at)}.` : "";
    if (statusLine !== connectStatus) statusLine.textContent = "Continue in the StackOne Hub: the link is below.";
    revealHub(link);
  } catch (exc) {
    if (handleAuthError(exc)) return;
    statusLine.textContent = exc instanceof ApiError ? `We couldn't start connecting. ${humanError(exc).message}` : "We couldn't start connecting. Please try again.";
  }
}

async function loadEmbloy() {
  try {
    const state = await employerApi("/employer/embloy-token");
    embloyDelete.hidden = !(state && state.configured);  // nothing to remove without a token
    if (state && state.configured) {
      embloyState.textContent = `An Embloy client token is configured${state.updated_at ? ` (updated ${formatTime(state.updated_at)})` : ""}.`;
      if (state.needs_renewal || state.status === "invalid") embloyState.textContent += " Embloy rejected it: please paste a new one.";
    } else {
      embloyState.textContent = "No Embloy client token yet: candidates cannot use Apply with Embloy.";
    }
  } catch (exc) {
    if (handleAuthError(exc)) return;
    embloyState.textContent = `We couldn't read the Embloy token state. ${humanError(exc).message}`;
  }
}

function setEmbloyError(message) {
  embloyError.textContent = message || "";
  embloyError.hidden = !message;
  if (message) embloyInput.setAttribute("aria-invalid", "true");
  else embloyInput.removeAttribute("aria-invalid");
}

embloyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  setEmbloyError("");
  const token = embloyInput.value.trim();
  if (!token) {
    setEmbloyError("Paste the client token from your Embloy settings.");
    embloyInput.focus();
    return;
  }
  try {
    await employerApi("/employer/embloy-token", { method: "PUT", body: { client_token: token } });
    embloyInput.value = "";
    await loadEmbloy();
  } catch (exc) {
    if (handleAuthError(exc)) return;
    const fields = exc instanceof ApiError ? exc.fields : {};
    setEmbloyError(fields.client_token || (exc instanceof ApiError ? exc.message : "Could not save the token."));
    embloyInput.focus();
  }
});

embloyDelete.addEventListener("click", async () => {
  try {
    await employerApi("/employer/embloy-token", { method: "DELETE" });
    await loadEmbloy();
  } catch (exc) {
    if (handleAuthError(exc)) return;
    embloyState.textContent = `We couldn't remove the token. ${humanError(exc).message}`;
  }
});

function describeNotifications(settings) {
  if (!settings || !settings.email) return "No notification address: the board sends you no emails.";
  const digest = settings.new_applications_digest ? " and a daily digest of new applications" : "";
  return `We email ${settings.email} about connections that need attention${digest}.`;
}

function showNotifications(settings) {
  notificationEmail.value = (settings && settings.email) || "";
  notificationDigest.checked = Boolean(settings && settings.new_applications_digest);
  notificationsState.textContent = describeNotifications(settings);
}

function setFieldError(input, line, message) {
  line.textContent = message || "";
  line.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

async function loadNotifications() {
  try {
    showNotifications(await employerApi("/employer/notifications"));
  } catch (exc) {
    if (handleAuthError(exc)) return;
    notificationsState.textContent = `We couldn't read your notification settings. ${humanError(exc).message}`;
  }
}

notificationsForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  setFieldError(notificationEmail, notificationEmailError, "");
  setFieldError(notificationDigest, notificationDigestError, "");
  const email = notificationEmail.value.trim();
  if (notificationDigest.checked && !email) {
    setFieldError(notificationDigest, notificationDigestError, "Enter a notification address to get the daily digest.");
    notificationEmail.focus();
    return;
  }
  notificationsState.textContent = "Saving…";
  try {
    const saved = await employerApi("/employer/notifications", {
      method: "PUT",
      body: { email: email || null, new_applications_digest: notificationDigest.checked },
    });
    showNotifications(saved);
    notificationsState.textContent = `Saved. ${describeNotifications(saved)}`;
  } catch (exc) {
    if (handleAuthError(exc)) return;
    const fields = exc instanceof ApiError ? exc.fields : {};
    if (fields.email) setFieldError(notificationEmail, notificationEmailError, cleanMessage(`Address ${fields.email}`));
    if (fields.new_applications_digest) setFieldError(notificationDigest, notificationDigestError, "Enter a notification address to get the daily digest.");
    notificationsState.textContent = fields.email || fields.new_applications_digest
      ? "Check the marked fields."
      : `We couldn't save your notification settings. ${humanError(exc).message}`;
    if (fields.email) notificationEmail.focus();
  }
});

connectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const provider = connectForm.elements.provider.value;
  connect(provider ? { provider } : {});
});

async function loadIdentity() {
  try {
    const employer = await employerApi("/employer");
    if (employer && employer.name) {
      signedIn.replaceChildren("Signed in as ", h("strong", { text: employer.name }));
      signedIn.hidden = false;
      keyForm.hidden = true;
      return;
    }
  } catch (exc) {
    if (handleAuthError(exc)) return;
  }
  signedIn.hidden = true;
}

async function start() {
  keyStatus.textContent = "Checking the key…";
  const ok = await loadAccounts();
  if (!ok) return;
  keyStatus.textContent = "";
  forgetButton.hidden = false;
  consoleBox.hidden = false;
  loadIdentity();
  showApplications({ request: (path) => employerApi(path), apiKey: () => apiKey, onAuthError: handleAuthError });
  loadNotifications();
  loadEmbloy();
}

keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const value = keyInput.value.trim();
  if (!value) {
    keyStatus.textContent = "Paste your employer API key first.";
    keyInput.focus();
    return;
  }
  apiKey = value;
  storeKey(value);
  keyInput.value = "";
  start();
});
forgetButton.addEventListener("click", () => forget());

apiKey = readStoredKey();
if (apiKey) start();
