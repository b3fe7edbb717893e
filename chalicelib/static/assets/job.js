// The job page: posting details, sandboxed description, JSON-LD, Apply with Embloy, native application.
import { ApiError, BASE, api, h, humanize, locationNames, payText, shortDate } from "./api.js";
import { DOCUMENT_ACCEPT, fieldWrapper, renderQuestionnaires } from "./questions.js";

const statusLine = document.getElementById("status");
const article = document.getElementById("job");
const form = document.getElementById("application-form");
const formErrors = document.getElementById("form-errors");
const result = document.getElementById("application-result");
const submitButton = document.getElementById("submit-application");

const jobId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
let questionnaireForm = null;
let lastAttempt = null; // {body, key}: a retry of the same body after a network error reuses the key
let sentAnswers = []; // the answers list last sent, to map "answers.<index>" error paths to questions

function setText(id, text) {
  document.getElementById(id).textContent = text || "";
}

function injectJsonLd(jsonLd) {
  if (!jsonLd || typeof jsonLd !== "object") return;
  const script = document.createElement("script");
  script.type = "application/ld+json";
  // JSON.stringify output cannot close the element except through "</"; escape it.
  script.textContent = JSON.stringify(jsonLd).replace(/</g, "\\u003c");
  document.head.append(script);
}

function renderDescription(job) {
  const frame = document.getElementById("description");
  const stylesheet = `${location.origin}${BASE}/board/assets/description.css`;
  let body = typeof job.content_html === "string" ? job.content_html : "";
  if (!body.trim()) {
    const plain = document.createElement("p");
    plain.className = "plain";
    plain.textContent = job.content_plain || "No description provided.";
    body = plain.outerHTML;
  }
  // Sanitised at sync time; the sandbox (no scripts) is a second wall around it.
  frame.srcdoc = `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="${stylesheet}"></head><body>${body}</body></html>`;
  frame.addEventListener("load", () => {
    const doc = frame.contentDocument;
    if (!doc) return;
    for (const link of doc.querySelectorAll("a[href]")) {
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    }
    const fit = () => {
      frame.style.height = `${Math.max(doc.documentElement.scrollHeight, 80)}px`;
    };
    fit();
    if (window.ResizeObserver) new ResizeObserver(fit).observe(doc.body);
  });
}

function renderCompensation(job) {
  const items = (Array.isArray(job.compensation) ? job.compensation : [])
    .map((pay) => ({ pay, text: payText(pay) }))
    .filter((item) => item.text);
  if (!items.length && job.compensation_summary) items.push({ pay: job.compensation_summary, text: payText(job.compensation_summary) });
  const list = document.getElementById("pay-list");
  list.replaceChildren(...items.map(({ pay, text }) => {
    const label = pay.label || (pay.kind ? humanize(pay.kind) : "");
    return h("li", {}, label ? h("span", { class: "pay-label", text: `${label}: ` }) : null, h("strong", { text }));
  }));
  document.getElementById("pay").hidden = !items.length;
}

function renderMeta(job) {
  const meta = [];
  const locations = locationNames(job.locations);
  if (locations.length) meta.push(h("li", { text: locations.join(" · ") }));
  if (job.remote === true) meta.push(h("li", { class: "tag remote", text: "Remote" }));
  if (job.employment_type) meta.push(h("li", { class: "tag", text: humanize(job.employment_type) }));
  if (job.department) meta.push(h("li", { text: job.department }));
  const posted = shortDate(job.posted_at || job.created_at);
  if (posted) meta.push(h("li", {}, "Posted ", h("time", { datetime: job.posted_at || job.created_at, text: posted })));
  document.getElementById("job-meta").replaceChildren(...meta);
}

function renderApplyOptions(job) {
  const apply = job.apply && typeof job.apply === "object" ? job.apply : {};
  const options = document.getElementById("apply-options");
  options.replaceChildren();
  if (apply.embloy === true) {
    const path = `/jobs/${encodeURIComponent(job.job_id || jobId)}/apply/embloy`;
    // The link's GET is only a confirmation page (no side effects); a click POSTs and goes straight on.
    options.append(h("a", {
      class: "button embloy",
      id: "apply-embloy",
      href: `${BASE}${path}`,
      text: "Apply with Embloy",
      onclick: (event) => {
        event.preventDefault();
        api(path, { method: "POST" })
          .then((reply) => location.assign(reply.url))
          .catch((exc) => {
            statusLine.hidden = false;
            statusLine.textContent = exc instanceof ApiError ? exc.message : "Could not reach Embloy. Try again.";
          });
      },
    }));
  }
  const external = apply.external_url || job.external_apply_url;
  if (apply.native !== true && external && /^https?:\/\//i.test(external)) {
    options.append(h("a", { class: "button secondary", href: external, rel: "noopener noreferrer", target: "_blank", text: "Apply on the company's site" }));
  }
  if (apply.native === true) {
    if (options.children.length) options.append(h("p", { class: "hint", text: "Or apply here directly:" }));
    buildApplicationForm(job);
  } else if (!options.children.length) {
    options.append(h("p", { text: "This job does not take applications through the board." }));
  }
}

function candidateField(name, label, type, { required = false, autocomplete, paths = [] } = {}) {
  const control = h("input", { id: `candidate-${name}`, name, type, autocomplete, maxlength: 320 });
  return fieldWrapper({ label, required, control, paths: [`candidate.${name}`, name, ...paths] });
}

function buildApplicationForm(job) {
  const box = document.getElementById("candidate-fields");
  const resume = h("input", { id: "resume", name: "resume", type: "file", accept: DOCUMENT_ACCEPT });
  box.replaceChildren(
    candidateField("first_name", "First name", "text", { required: true, autocomplete: "given-name" }),
    candidateField("last_name", "Last name", "text", { required: true, autocomplete: "family-name" }),
    candidateField("email", "Email", "email", { required: true, autocomplete: "email", paths: ["candidate.emails"] }),
    candidateField("phone", "Phone", "tel", { autocomplete: "tel", paths: ["candidate.phone_number"] }),
    fieldWrapper({
      label: "Resume (PDF, DOC, DOCX, ODT, RTF or TXT, up to 10 MB)",
      required: true,
      control: resume,
      paths: ["resume", "resume.upload_id", "resume.content_base64", "resume.filename", "documents", "documents.0", "document"],
      extraClass: "wide",
    }),
  );
  questionnaireForm = renderQuestionnaires(document.getElementById("questionnaires"), job.questionnaires);
  form.hidden = false;
}

function clearErrors() {
  formErrors.hidden = true;
  formErrors.replaceChildren();
  for (const error of form.querySelectorAll(".field-error")) {
    error.hidden = true;
    error.textContent = "";
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
}

function showFieldError(wrapper, message) {
  const error = wrapper.querySelector(":scope > .field-error");
  error.textContent = message;
  error.hidden = false;
  for (const control of wrapper.querySelectorAll("input, select, textarea")) control.setAttribute("aria-invalid", "true");
}

/** The field wrapper an API error path belongs to ("candidate.email", "answers.q1", ...), if any. */
function wrapperForPath(path) {
  const wrappers = [...form.querySelectorAll("[data-paths]")];
  let normalized = String(path).replace(/\[(\w+)\]/g, ".$1").replace(/^body\./, "");
  const indexed = /^answers\.(\d+)(\.|$)/.exec(normalized);
  if (indexed && sentAnswers[Number(indexed[1])]) normalized = `answers.${sentAnswers[Number(indexed[1])].question_id}`;
  for (const wrapper of wrappers) {
    const paths = JSON.parse(wrapper.dataset.paths || "[]");
    if (paths.includes(normalized)) return wrapper;
  }
  // Fall back to a question id anywhere in the path (e.g. "questionnaires.0.answers.q_17").
  const segments = normalized.split(".");
  for (const wrapper of wrappers) {
    if (wrapper.dataset.questionId && segments.includes(wrapper.dataset.questionId)) return wrapper;
  }
  return null;
}

function showErrors(message, fields) {
  const unmatched = [];
  let first = null;
  for (const [path, text] of Object.entries(fields || {})) {
    const wrapper = wrapperForPath(path);
    if (wrapper) {
      showFieldError(wrapper, String(text));
      first = first || wrapper;
    } else {
      unmatched.push(`${path}: ${text}`);
    }
  }
  formErrors.replaceChildren(h("p", { text: message || "Please correct the marked fields." }));
  if (unmatched.length) formErrors.append(h("ul", {}, unmatched.map((text) => h("li", { text }))));
  formErrors.hidden = false;
  const focusTarget = first && first.querySelector("input:not([disabled]), select, textarea");
  (focusTarget || formErrors).focus();
}

async function buildBody() {
  const value = (name) => form.elements[name].value.trim();
  const candidate = { first_name: value("first_name"), last_name: value("last_name"), email: value("email") };
  if (value("phone")) candidate.phone = value("phone");
  const body = { candidate, answers: await questionnaireForm.collect() };
  sentAnswers = body.answers;
  const file = form.elements.resume.files[0];
  if (file) body.resume = await uploadResume(file);
  return body;
}

// The resume goes straight to storage through a presigned POST (a file's base64 in the JSON body would
// outgrow the API's request limit); the application then names the upload. A retry of the same file
// reuses its upload, so the retried body (and its Idempotency-Key) stays the same.
const MAX_RESUME_BYTES = 10 * 1024 * 1024;
let lastUpload = null;

async function uploadResume(file) {
  if (lastUpload && lastUpload.file === file) return lastUpload.resume;
  if (file.size > MAX_RESUME_BYTES) throw new RangeError(`${file.name} is larger than 10 MB.`);
  const upload = await api(`/jobs/${encodeURIComponent(jobId)}/resume-uploads`, { method: "POST", body: { filename: file.name } });
  const data = new FormData();
  for (const [name, value] of Object.entries(upload.fields || {})) data.append(name, value);
  data.append("file", file);
  let response;
  try {
    response = await fetch(upload.url, { method: "POST", body: data, credentials: "omit" });
  } catch {
    throw new ApiError(0, { error: { code: "network_error", message: "Could not upload the resume. Check your connection and try again." } });
  }
  if (!response.ok) {
    const message = "The resume could not be uploaded. Check that it is a PDF, DOC, DOCX, ODT, RTF or TXT file of at most 10 MB.";
    throw new ApiError(response.status, { error: { code: "upload_failed", message, fields: { resume: message } } });
  }
  const resume = { filename: file.name, upload_id: upload.upload_id };
  lastUpload = { file, resume };
  return resume;
}

async function clientProblems() {
  const problems = [];
  for (const wrapper of document.getElementById("candidate-fields").querySelectorAll(".field")) {
    const control = wrapper.querySelector("input");
    if (control.required && (control.type === "file" ? !control.files.length : !control.value.trim())) {
      problems.push({ wrapper, message: "This field is required." });
    } else if (control.type === "email" && control.value && !control.checkValidity()) {
      problems.push({ wrapper, message: "Enter a valid email address." });
    }
  }
  for (const wrapper of form.querySelectorAll(".question:not([hidden])")) {
    const control = wrapper.querySelector("input[type=url], input[type=number]");
    if (control && control.value && !control.checkValidity()) problems.push({ wrapper, message: control.validationMessage || "Enter a valid value." });
  }
  return problems.concat(await questionnaireForm.missing());
}

async function onSubmit(event) {
  event.preventDefault();
  clearErrors();
  const problems = await clientProblems();
  if (problems.length) {
    for (const { wrapper, message } of problems) showFieldError(wrapper, message);
    formErrors.replaceChildren(h("p", { text: `Please correct ${problems.length === 1 ? "1 field" : `${problems.length} fields`}.` }));
    formErrors.hidden = false;
    (problems[0].wrapper.querySelector("input:not([disabled]), select, textarea") || formErrors).focus();
    return;
  }
  submitButton.disabled = true;
  submitButton.textContent = "Sending…";
  try {
    let body;
    try {
      body = await buildBody();
    } catch (exc) {
      if (exc instanceof ApiError) throw exc;
      showErrors(exc instanceof RangeError ? exc.message : "Could not read the attached file.", {});
      return;
    }
    const serialized = JSON.stringify(body);
    const key = lastAttempt && lastAttempt.body === serialized ? lastAttempt.key : crypto.randomUUID();
    lastAttempt = { body: serialized, key };
    const response = await api(`/jobs/${encodeURIComponent(jobId)}/applications`, {
      method: "POST",
      body,
      headers: { "Idempotency-Key": key },
    });
    form.hidden = true;
    const pending = response && response.status && response.status !== "created";
    result.replaceChildren(
      h("h3", { text: pending ? "Application received" : "Application sent" }),
      h("p", { text: pending ? "We are confirming it with the employer's system." : "The employer has your application. Good luck!" }),
    );
    const reference = response && (response.application_id || response.reference);
    if (reference) result.append(h("p", { class: "hint" }, "Reference: ", h("code", { text: String(reference) })));
    if (pending && response.message) result.append(h("p", { text: String(response.message) }));
    result.hidden = false;
    result.focus();
  } catch (exc) {
    if (exc instanceof ApiError) {
      if (exc.status !== 0 && exc.status < 500) lastAttempt = null;
      const external = exc.details && (exc.details.external_apply_url || exc.details.external_url);
      showErrors(exc.message, exc.fields);
      if (external && /^https?:\/\//i.test(external)) {
        formErrors.append(h("p", {}, h("a", { href: external, target: "_blank", rel: "noopener noreferrer", text: "Apply on the company's site instead" })));
      }
    } else {
      showErrors("Something went wrong. Please try again.", {});
    }
  } finally {
    submitButton.disabled = false;
    submitButton.textContent = "Send application";
  }
}

async function load() {
  if (!jobId) {
    statusLine.textContent = "No job selected.";
    return;
  }
  try {
    const job = await api(`/jobs/${encodeURIComponent(jobId)}`);
    document.title = `${job.title} at ${job.company} · Unified Job Board`;
    setText("job-title", job.title);
    setText("job-company", job.company);
    renderMeta(job);
    renderCompensation(job);
    renderDescription(job);
    injectJsonLd(job.json_ld);
    renderApplyOptions(job);
    statusLine.textContent = "";
    statusLine.hidden = true;
    article.hidden = false;
    // Embloy sends the candidate back to `?applied=embloy` (success) or `?cancelled=embloy`.
    const params = new URLSearchParams(location.search);
    if (params.has("applied") || params.has("cancelled")) {
      statusLine.hidden = false;
      statusLine.textContent = params.has("applied")
        ? "Your application through Embloy was sent."
        : "You left Embloy without applying. You can apply below.";
    }
  } catch (exc) {
    statusLine.textContent = exc instanceof ApiError && exc.status === 404
      ? "This job is no longer open, or the link is wrong."
      : exc instanceof ApiError ? exc.message : "Something went wrong loading this job.";
  }
}

form.addEventListener("submit", onSubmit);
load();
