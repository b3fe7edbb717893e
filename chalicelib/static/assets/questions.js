// Builds the native application form from a posting's questionnaires and reads the answers back.
import { h } from "./api.js";

// Attachment answers travel inline as base64 in the JSON body (4 MB); the resume goes to storage first.
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
export const DOCUMENT_ACCEPT = ".pdf,.doc,.docx,.odt,.rtf,.txt,application/pdf,application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.oasis.opendocument.text,application/rtf,text/plain";

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

function requiredMark(required) {
  return required ? [" ", h("span", { class: "required-mark", "aria-hidden": "true", text: "*" }), h("span", { class: "visually-hidden", text: "(required)" })] : [];
}

/**
 * A labelled field wrapper. `paths` are the error paths the API may use for it (matched against
 * error.fields keys); the error text is rendered into the wrapper's .field-error element.
 */
export function fieldWrapper({ label, description, required, paths, control, group = false, extraClass = "" }) {
  const errorId = nextId("error");
  const hintId = description ? nextId("hint") : null;
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  const hint = description ? h("p", { class: "hint", id: hintId, text: description }) : null;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  let wrapper;
  if (group) {
    // Radio/checkbox groups: a fieldset whose legend is the question.
    wrapper = h("fieldset", { class: `field group ${extraClass}`, "aria-describedby": describedBy },
      h("legend", {}, label, ...requiredMark(required)), hint, control, error);
    if (required) wrapper.dataset.required = "true";
  } else {
    control.setAttribute("aria-describedby", describedBy);
    if (required) {
      control.required = true;
      control.setAttribute("aria-required", "true");
    }
    wrapper = h("div", { class: `field ${extraClass}` },
      h("label", { for: control.id }, label, ...requiredMark(required)), hint, control, error);
  }
  wrapper.dataset.paths = JSON.stringify(paths || []);
  return wrapper;
}

function optionList(question) {
  return Array.isArray(question.options) ? question.options.filter((option) => option && option.id != null) : [];
}

/** One question's control(s), wrapped; returns {wrapper, read(): Promise<value|undefined>}. */
function questionField(question, questionnaire) {
  const type = String(question.type || "short_text").toLowerCase();
  const id = nextId("q");
  const name = `question-${question.id}`;
  const required = Boolean(question.required);
  const label = question.text || question.title || question.id;
  const paths = [
    `answers.${question.id}`,
    `questions.${question.id}`,
    `questionnaires.${questionnaire.id}.${question.id}`,
    `questionnaires.${questionnaire.id}.answers.${question.id}`,
    String(question.id),
  ];
  // ATSs often repeat the question as its description; show a description only when it adds something.
  const plain = (text) => String(text || "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
  const description = question.description && plain(question.description) !== plain(label) ? question.description : undefined;
  const common = { label, description, required, paths };
  let control;
  let read;
  let group = false;

  if (type === "long_text") {
    control = h("textarea", { id, name, rows: 5, maxlength: 10000 });
    read = () => control.value.trim() || undefined;
  } else if (type === "single_select" && optionList(question).length > 6) {
    control = h("select", { id, name }, h("option", { value: "", text: "Choose…" }),
      optionList(question).map((option) => h("option", { value: String(option.id), text: option.text ?? option.id })));
    read = () => control.value || undefined;
  } else if (type === "single_select" || type === "multi_select") {
    group = true;
    const inputType = type === "single_select" ? "radio" : "checkbox";
    control = h("ul", { class: "choices" }, optionList(question).map((option) => {
      const optionId = nextId("opt");
      return h("li", {},
        h("input", { type: inputType, id: optionId, name, value: String(option.id) }),
        h("label", { for: optionId, text: option.text ?? option.id }));
    }));
    read = () => {
      const values = [...control.querySelectorAll("input:checked")].map((box) => box.value);
      if (!values.length) return undefined;
      // single_select answers one option id; multi_select a list of them.
      return inputType === "radio" ? values[0] : values;
    };
  } else if (type === "boolean") {
    group = true;
    const yes = nextId("opt");
    const no = nextId("opt");
    control = h("ul", { class: "choices inline" },
      h("li", {}, h("input", { type: "radio", id: yes, name, value: "true" }), h("label", { for: yes, text: "Yes" })),
      h("li", {}, h("input", { type: "radio", id: no, name, value: "false" }), h("label", { for: no, text: "No" })));
    read = () => {
      const checked = control.querySelector("input:checked");
      return checked ? checked.value === "true" : undefined;
    };
  } else if (type === "number") {
    control = h("input", { id, name, type: "number", inputmode: "decimal", step: "any" });
    read = () => (control.value === "" ? undefined : Number(control.value));
  } else if (type === "date") {
    control = h("input", { id, name, type: "date" });
    read = () => control.value || undefined;
  } else if (type === "url") {
    control = h("input", { id, name, type: "url", inputmode: "url", placeholder: "https://", maxlength: 2000 });
    read = () => control.value.trim() || undefined;
  } else if (type === "attachment" || type === "file") {
    control = h("input", { id, name, type: "file", accept: DOCUMENT_ACCEPT });
    read = async () => (control.files && control.files[0] ? readFile(control.files[0]) : undefined);
  } else {
    control = h("input", { id, name, type: "text", maxlength: 1000 });
    read = () => control.value.trim() || undefined;
  }

  const wrapper = fieldWrapper({ ...common, control, group, extraClass: `question type-${type}` });
  wrapper.dataset.questionId = String(question.id);
  return { question, questionnaire, type, wrapper, read };
}

/** The selected option ids (or "true"/"false") a parent question currently has, as strings. */
function currentValues(field) {
  const inputs = field.wrapper.querySelectorAll("input, select, textarea");
  const values = [];
  for (const input of inputs) {
    if ((input.type === "radio" || input.type === "checkbox") && !input.checked) continue;
    if (input.type === "file") continue;
    if (input.value !== "") values.push(String(input.value));
  }
  return values;
}

/**
 * Render every questionnaire into `container`; returns {fields, collect(), missing(), refresh()}.
 * collect() resolves to [{questionnaire_id, question_id, value}] for the visible, answered questions:
 * text/url/date as strings, number as a number, boolean as true/false, single_select as an option id,
 * multi_select as a list of option ids, attachment as {filename, content_base64}.
 */
export function renderQuestionnaires(container, questionnaires) {
  container.replaceChildren();
  const fields = [];
  for (const questionnaire of Array.isArray(questionnaires) ? questionnaires : []) {
    const questions = Array.isArray(questionnaire.questions) ? questionnaire.questions : [];
    if (!questions.length) continue;
    const section = h("fieldset", { class: "questionnaire" },
      h("legend", { text: questionnaire.name || "Questions from the employer" }));
    for (const question of questions) {
      const field = questionField(question, questionnaire);
      fields.push(field);
      section.append(field.wrapper);
    }
    container.append(section);
  }
  const byId = new Map(fields.map((field) => [String(field.question.id), field]));

  function isVisible(field, seen = new Set()) {
    const condition = field.question.condition;
    if (!condition || !condition.parent_question_id) return true;
    const parent = byId.get(String(condition.parent_question_id));
    if (!parent || seen.has(parent)) return true;
    seen.add(field);
    if (!isVisible(parent, seen)) return false;
    const wanted = new Set((condition.option_ids || []).map(String));
    const values = currentValues(parent);
    const hit = values.some((value) => wanted.has(value));
    const kind = String(condition.condition || "equals_to").toLowerCase();
    return kind.startsWith("not") ? !hit : hit;
  }

  function refresh() {
    for (const field of fields) {
      const visible = isVisible(field);
      field.wrapper.hidden = !visible;
      // Hidden questions are neither validated nor sent.
      for (const control of field.wrapper.querySelectorAll("input, select, textarea")) control.disabled = !visible;
    }
  }
  container.addEventListener("change", refresh);
  container.addEventListener("input", refresh);
  refresh();

  async function collect() {
    const answers = [];
    for (const field of fields) {
      if (field.wrapper.hidden) continue;
      const value = await field.read();
      if (value === undefined) continue;
      answers.push({ questionnaire_id: String(field.questionnaire.id), question_id: String(field.question.id), value });
    }
    return answers;
  }

  /** Client-side check of required, visible questions; returns [{wrapper, message}]. */
  async function missing() {
    const problems = [];
    for (const field of fields) {
      if (field.wrapper.hidden || !field.question.required) continue;
      if ((await field.read()) === undefined) problems.push({ wrapper: field.wrapper, message: "Please answer this question." });
    }
    return problems;
  }

  return { fields, collect, missing, refresh };
}

/** A File as {filename, content_base64} (standard base64); rejects files over MAX_FILE_BYTES. */
export function readFile(file) {
  if (file.size > MAX_FILE_BYTES) {
    return Promise.reject(new RangeError(`${file.name} is larger than 4 MB.`));
  }
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error || new Error("Could not read the file."));
    reader.onload = () => {
      const url = String(reader.result || "");
      const comma = url.indexOf(",");
      resolve({ filename: file.name, content_base64: comma >= 0 ? url.slice(comma + 1) : "" });
    };
    reader.readAsDataURL(file);
  });
}
