// The page's language for scripts: Django's JavaScript catalog (base.html loads
// /jsi18n/<lang>.js as a plain script before any module) behind four small
// functions, and numbers and times in the reader's locale (Intl).
//
//   t("Copied")                                   -> "رونوشت شد"
//   t("Reader %(n)s", { n: 2 })                    -> "خوانندهٔ ۲"
//   nt("%(count)s view left", "%(count)s views left", 2) -> "۲ بازدید مانده"
//   pt("button", "Post")                          -> the msgid with a context
//
// makemessages finds t(), nt() and pt() (nullboard's makemessages adds them as
// keywords). Values are formatted for the reader (numbers with their digits) and
// put into the text with Django's interpolate; they are text, never markup: put
// the result in the DOM with textContent.

const catalog = globalThis.django ?? {};

/** The page's language (<html lang>), which the catalog was chosen for. */
export const lang = document.documentElement.lang || "en";

const numbers = new Intl.NumberFormat(lang);
const twoDigits = new Intl.NumberFormat(lang, { minimumIntegerDigits: 2, useGrouping: false });

function fill(text, values) {
  if (!values) return text;
  const shown = {};
  for (const [name, value] of Object.entries(values)) {
    shown[name] = typeof value === "number" ? numbers.format(value) : String(value);
  }
  // Django's interpolate when the catalog loaded; the same substitution otherwise.
  if (catalog.interpolate) return catalog.interpolate(text, shown, true);
  return text.replace(/%\((\w+)\)s/g, (match, name) => (name in shown ? shown[name] : match));
}

/** The translation of `msgid`, with %(name)s placeholders filled from `values`. */
export function t(msgid, values) {
  return fill(catalog.gettext ? catalog.gettext(msgid) : msgid, values);
}

/** The plural form for `count` (the language's own rule), with %(count)s filled. */
export function nt(singular, plural, count, values) {
  const text = catalog.ngettext ? catalog.ngettext(singular, plural, count) : count === 1 ? singular : plural;
  return fill(text, { count, ...values });
}

/** Like t(), for a msgid that needs a context to be translated right. */
export function pt(context, msgid, values) {
  return fill(catalog.pgettext ? catalog.pgettext(context, msgid) : msgid, values);
}

/** A number in the reader's digits and grouping (1,234 / ۱٬۲۳۴). */
export function formatNumber(n) {
  return numbers.format(n);
}

/** A countdown's remaining time as h:mm:ss or m:ss, in the reader's digits. */
export function formatClock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = twoDigits.format(s % 60);
  return h ? `${numbers.format(h)}:${twoDigits.format(m)}:${rest}` : `${numbers.format(m)}:${rest}`;
}

const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
const UNITS = [
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** "in 5 minutes", "3 hours ago"... for a Unix time, in the reader's language. */
export function formatRelative(unixSeconds, now = Date.now() / 1000) {
  const delta = unixSeconds - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) >= size || unit === "second") {
      return relative.format(Math.round(delta / size), unit);
    }
  }
  return "";
}

/** A Unix time as the reader's date and time, in their zone and language. */
export function formatDateTime(unixSeconds, options = { dateStyle: "medium", timeStyle: "short" }) {
  return new Date(unixSeconds * 1000).toLocaleString(lang, options);
}
