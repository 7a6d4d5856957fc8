// The receipt: times in the reader's own time zone and locale, a live countdown,
// and a reload when the drop's time is up.
import { t } from "../js/i18n.js";
import { startAll } from "./countdown.js";

// The browser's preferred locales that match the page's language, then the page's:
// an English page read in en-GB gets British dates, a Persian page Persian digits.
function locales() {
  const page = document.documentElement.lang || "en";
  const base = page.split("-")[0].toLowerCase();
  const matching = (navigator.languages || []).filter((tag) => tag.split("-")[0].toLowerCase() === base);
  return [...matching, page];
}

export function showLocalTimes(root = document) {
  const format = new Intl.DateTimeFormat(locales(), { dateStyle: "medium", timeStyle: "long" });
  for (const el of root.querySelectorAll("time[data-local-time]")) {
    const when = new Date(el.dateTime);
    if (Number.isNaN(when.getTime())) continue;
    el.textContent = format.format(when);
    el.title = when.toISOString();
  }
  const zone = root.querySelector("[data-time-zone]");
  const name = format.resolvedOptions().timeZone;
  if (zone && name) zone.textContent = t("Times are in your time zone (%(zone)s).", { zone: name });
}

showLocalTimes();
startAll(document, () => setTimeout(() => window.location.reload(), 1000));
