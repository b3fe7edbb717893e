// Employer console: API key (this tab only), linked accounts with sync health, connect, sync now, Embloy token.
import { ApiError, api, h, humanize, shortDate } from "./api.js";

// sessionStorage: survives a reload of this tab and is gone when the tab closes (never persistent storage).
const KEY_STORAGE = "job-board.employer-key";

const keyForm = document.getElementById("key-form");
const keyInput = document.getElementById("api-key");
const keyStatus = document.getElementById("key-status");
const forgetButton = document.getElementById("forget-key");
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
  keyStatus.textContent = message || "Key forgotten.";
  keyInput.focus();
}

function formatTime(value) {
  if (!value) return "never";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "unknown";
  return `${shortDate(value)} ${date.toLocaleTimeString("en", { hour: "2-digit", minute: "2-digit" })}`;
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
  const reasons = (Array.isArray(account.status_reasons) ? account.status_reasons : [])
    .map((reason) => reason && (reason.description || reason.code))
    .filter(Boolean);
  const attention = account.attention && account.attention.reason ? account.attention : null;
  const status = h("p", { class: "sync-result", role: "status", "aria-live": "polite" });
  const actions = h("div", { class: "button-row" },
    h("button", {
      type: "button",
      class: "sync-now",
      text: "Sync now",
      "aria-label": `Sync ${name} account now`,
      onclick: (event) => syncNow(account, event.currentTarget, status),
    }));
  if (attention && attention.action === "reconnect") {
    actions.append(h("button", {
      type: "button",
      class: "secondary",
      text: "Reconnect",
      onclick: () => connect({ provider: account.provider, account_id: account.account_id }),
    }));
  }
  return h("li", { class: `account health-${health}`, dataset: { accountId: account.account_id } },
    h("h3", {}, name, account.label ? h("span", { class: "hint", text: ` · ${account.label}` }) : null),
    h("p", { class: `health-badge ${health}` }, h("span", { class: "dot", "aria-hidden": "true" }), healthText),
    attention ? h("p", { class: "attention", role: "note" }, h("strong", { text: "What to do: " }), attention.reason) : null,
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
    accountsStatus.textContent = exc instanceof ApiError ? exc.message : "Could not load accounts.";
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
    status.textContent = exc instanceof ApiError ? exc.message : "Could not queue a sync.";
  } finally {
    button.disabled = false;
  }
}

async function connect(body) {
  connectStatus.textContent = "Starting a secure connect session…";
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
      return;
    }
    const url = String(session.auth_link_url || "");
    if (!/^https?:\/\//i.test(url)) throw new Error("The connect session has no link.");
    const opened = window.open(url, "_blank", "noopener");
    hubContainer.append(h("p", {},
      opened ? "The StackOne Hub opened in a new tab. " : "Your browser blocked the new tab. ",
      h("a", { href: url, target: "_blank", rel: "noopener noreferrer", id: "hub-link", text: "Open the StackOne Hub" }),
      ". When you have finished, ",
      h("button", { type: "button", class: "link-button", text: "refresh your accounts", onclick: () => loadAccounts() }),
      "."));
    connectStatus.textContent = session.expires_at ? `This link works until ${formatTime(session.expires_at)}.` : "";
  } catch (exc) {
    if (handleAuthError(exc)) return;
    connectStatus.textContent = exc instanceof ApiError || exc instanceof Error ? exc.message : "Could not start connecting.";
  }
}

async function loadEmbloy() {
  try {
    const state = await employerApi("/employer/embloy-token");
    if (state && state.configured) {
      embloyState.textContent = `An Embloy client token is configured${state.updated_at ? ` (updated ${formatTime(state.updated_at)})` : ""}.`;
      if (state.needs_renewal || state.status === "invalid") embloyState.textContent += " Embloy rejected it: please paste a new one.";
    } else {
      embloyState.textContent = "No Embloy client token yet: candidates cannot use Apply with Embloy.";
    }
  } catch (exc) {
    if (handleAuthError(exc)) return;
    embloyState.textContent = exc instanceof ApiError ? exc.message : "Could not read the Embloy token state.";
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

document.getElementById("embloy-delete").addEventListener("click", async () => {
  try {
    await employerApi("/employer/embloy-token", { method: "DELETE" });
    await loadEmbloy();
  } catch (exc) {
    if (handleAuthError(exc)) return;
    embloyState.textContent = exc instanceof ApiError ? exc.message : "Could not remove the token.";
  }
});

connectForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const provider = connectForm.elements.provider.value;
  connect(provider ? { provider } : {});
});

async function start() {
  keyStatus.textContent = "Checking the key…";
  const ok = await loadAccounts();
  if (!ok) return;
  keyStatus.textContent = "Signed in with your API key.";
  forgetButton.hidden = false;
  consoleBox.hidden = false;
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
