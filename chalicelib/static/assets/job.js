// The job page. The server renders the posting, its JSON-LD and the apply options; this script builds
// the native application form from the page's embedded job data, keeps an Apply button in reach on
// phones, and after sending replaces the apply options with the confirmation and what happens next.
import { ApiError, BASE, api, cleanMessage, h, humanError, humanize } from "./api.js";
import { DOCUMENT_ACCEPT, fieldWrapper, renderQuestionnaires } from "./questions.js";

const form = document.getElementById("application-form");
const formErrors = document.getElementById("form-errors");
const result = document.getElementById("application-result");
const submitButton = document.getElementById("submit-application");
const applySection = document.getElementById("apply");
const sticky = document.getElementById("sticky-apply");

document.documentElement.classList.add("js");

function readJobData() {
  const element = document.getElementById("job-data");
  try {
    return element ? JSON.parse(element.textContent || "{}") : {};
  } catch {
    return {};
  }
}

const job = readJobData();
const jobId = job.job_id || document.getElementById("job")?.dataset.jobId || "";
let questionnaireForm = null;
let lastAttempt = null; // {body, key}: a retry of the same body after a network error reuses the key
let sentAnswers = []; // the answers list last sent, to map "answers.<index>" error paths to questions

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

/** The label a person sees for an API error path that matches no field ("candidate.phone" -> "Phone"). */
function pathLabel(path) {
  const segments = String(path).split(".").filter((part) => !/^\d+$/.test(part) && part !== "candidate" && part !== "body");
  return humanize(segments[segments.length - 1] || "");
}

function showErrors(message, fields, { retry = false } = {}) {
  const unmatched = [];
  let first = null;
  for (const [path, text] of Object.entries(fields || {})) {
    const wrapper = wrapperForPath(path);
    if (wrapper) {
      showFieldError(wrapper, cleanMessage(text));
      first = first || wrapper;
    } else {
      const label = pathLabel(path);
      unmatched.push(label ? `${label}: ${cleanMessage(text)}` : cleanMessage(text));
    }
  }
  formErrors.replaceChildren(h("p", { text: message || "Please correct the marked fields." }));
  if (unmatched.length) formErrors.append(h("ul", {}, unmatched.map((text) => h("li", { text }))));
  if (retry) {
    formErrors.append(h("button", { type: "button", id: "retry-application", text: "Retry", onclick: () => form.requestSubmit() }));
  }
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
    showConfirmation(response, body.candidate.email);
  } catch (exc) {
    const { message, retry } = humanError(exc, { notFound: "This job has closed and no longer takes applications." });
    if (exc instanceof ApiError) {
      // A retry of the same body reuses the Idempotency-Key only when the server may not have seen it.
      if (!retry) lastAttempt = null;
      const fields = exc.status === 400 || exc.status === 422 ? exc.fields : {};
      const duplicate = exc.status === 409 ? "It looks like you already applied to this job recently." : null;
      showErrors(Object.keys(fields).length ? "Please correct the marked fields." : duplicate || message, fields, { retry });
      const external = exc.details && (exc.details.external_apply_url || exc.details.external_url);
      if (external && /^https?:\/\//i.test(external)) {
        formErrors.append(h("p", {}, h("a", { href: external, target: "_blank", rel: "noopener noreferrer", text: "Apply on the company's site instead" })));
      }
    } else {
      showErrors(message, {}, { retry });
    }
  } finally {
    submitButton.disabled = false;
    submitButton.textContent = "Send application";
  }
}

/** After sending: the apply options and form give way to the confirmation and the next steps. */
function showConfirmation(response, email) {
  const pending = response && response.status && response.status !== "created";
  const reference = response && (response.application_id || response.reference);
  const company = job.company || "The employer";
  const companyUrl = `${document.documentElement.dataset.base || ""}/board?company=${encodeURIComponent(job.company || "")}`;
  result.replaceChildren(
    h("h3", { text: pending ? "Application received" : "Application sent" }),
    h("p", { text: pending
      ? `We are handing your application to ${company}'s hiring system. You don't need to send it again.`
      : `${company} has your application for ${job.title || "this job"}.` }),
    h("h4", { text: "What happens next" }),
    h("ul", { class: "next-steps" },
      h("li", { text: `${company} reviews applications in their own hiring system.` }),
      h("li", { text: email ? `If they want to talk, they will contact you at ${email}.` : "If they want to talk, they will contact you by email." }),
      reference ? h("li", {}, "Your reference: ", h("code", { text: String(reference) })) : null),
    h("p", { class: "button-row" },
      job.company ? h("a", { class: "button", href: companyUrl, text: `More jobs at ${job.company}` }) : null,
      h("a", { class: "button secondary", href: `${document.documentElement.dataset.base || ""}/board`, text: "Browse all jobs" })),
  );
  document.getElementById("apply-options").replaceChildren();
  form.remove();
  for (const button of document.querySelectorAll("#apply-top, #sticky-apply")) button.hidden = true;
  result.hidden = false;
  result.focus();
}

// Apply buttons in the header and the phone's sticky bar jump to the form and put the cursor in it.
for (const link of document.querySelectorAll('a[href="#apply"]')) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    applySection.scrollIntoView({ block: "start" });
    const first = applySection.querySelector("#apply-embloy, input:not([type=hidden]), a.button");
    (first || applySection).focus({ preventScroll: true });
  });
}
// The sticky bar steps aside while the apply section itself is on screen.
if (sticky && "IntersectionObserver" in window) {
  new IntersectionObserver((entries) => {
    for (const entry of entries) sticky.classList.toggle("away", entry.isIntersecting);
  }).observe(applySection);
}

// Apply with Embloy: the link's GET is only a confirmation page (no side effects, works without
// scripts); with scripts a click POSTs and goes straight on to Embloy.
const embloyLink = document.getElementById("apply-embloy");
if (embloyLink) {
  embloyLink.addEventListener("click", (event) => {
    event.preventDefault();
    const path = `/jobs/${encodeURIComponent(jobId)}/apply/embloy`;
    api(path, { method: "POST" })
      .then((reply) => location.assign(reply.url))
      .catch((exc) => {
        const { message } = humanError(exc, { notFound: "This job has closed and no longer takes applications." });
        const note = document.getElementById("embloy-error") || h("p", { id: "embloy-error", class: "form-errors", role: "alert" });
        note.textContent = message;
        embloyLink.after(note);
      });
  });
}

// The employer's numbers: the candidate started applying (an Apply button, or the first field of the
// form). One beacon per page load; it never holds up or fails what the candidate is doing.
let applyStartSent = false;
function applyStarted() {
  if (applyStartSent || !jobId) return;
  applyStartSent = true;
  fetch(`${BASE}/jobs/${encodeURIComponent(jobId)}/events`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type: "apply_start" }),
    credentials: "omit",
    keepalive: true,
  }).catch(() => {});
}
for (const button of document.querySelectorAll('a[href="#apply"], #apply-embloy, #apply-options a.button')) {
  button.addEventListener("click", applyStarted);
}
form.addEventListener("focusin", applyStarted);

if (job.apply && job.apply.native === true) buildApplicationForm(job);
form.addEventListener("submit", onSubmit);
