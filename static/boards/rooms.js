// The rooms page: make a passphrase room, export and import the remembered rooms.
// Only the new room's public parameters and key check are ever sent.
import { postWithWork } from "../js/api.js";
import { url } from "../js/config.js";
import { nt, pt, t } from "../js/i18n.js";
import { makeKeyCheck, newRoomSecret, roomKey } from "./crypto.js";
import {
  exportRooms,
  importRooms,
  myRooms,
  newKdf,
  passphraseSecret,
  passphraseStrength,
  readExport,
  tabRooms,
} from "./keep.js";
import "./sidebar.js";

const page = document.getElementById("rooms-page");

function say(element, text, error = false) {
  element.textContent = text;
  element.classList.toggle("error", error);
}

function wireNewRoom() {
  const form = page.querySelector("[data-passphrase-room]");
  const input = form.querySelector("[data-new-passphrase]");
  const again = form.querySelector("[data-new-passphrase-again]");
  const meter = form.querySelector("[data-strength-meter]");
  const label = form.querySelector("[data-strength-label]");
  const status = form.querySelector("[data-create-status]");
  const button = form.querySelector("[data-create]");
  button.disabled = false;
  input.addEventListener("input", () => {
    const strength = passphraseStrength(input.value);
    meter.value = strength.level;
    label.textContent = input.value
      ? nt("%(strength)s (about %(count)s bit)", "%(strength)s (about %(count)s bits)", strength.bits, {
          strength: strength.label,
        })
      : pt("passphrase strength", "Too weak");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const strength = passphraseStrength(input.value);
    // Refused before anything is derived or sent.
    if (!strength.ok) {
      say(
        status,
        t("That passphrase is too weak (%(strength)s): use four or more random words or 16+ mixed characters.", {
          strength: strength.label.toLowerCase(),
        }),
        true,
      );
      input.focus();
      return;
    }
    if (again.value !== input.value) {
      say(status, t("The two passphrases differ."), true);
      again.focus();
      return;
    }
    button.disabled = true;
    say(status, t("Deriving the room's key and opening the room…"));
    try {
      const withLink = form.querySelector("[data-with-link]").checked;
      const kdf = newKdf(withLink);
      const linkSecret = withLink ? newRoomSecret() : null;
      const secret = await passphraseSecret(input.value, kdf, linkSecret);
      const keyCheck = await makeKeyCheck(await roomKey(secret));
      const room = await postWithWork(url("api-rooms"), { key_check: keyCheck, kdf });
      tabRooms.set(room.room, secret);
      if (form.querySelector("[data-remember-new]").checked)
        myRooms.remember({ room: room.room, secret, kind: "passphrase" });
      input.value = again.value = "";
      location.assign(`${room.url}${linkSecret ? `#k=${linkSecret}` : ""}`);
    } catch (error) {
      say(status, t("Could not open a room: %(reason)s", { reason: error.message }), true);
      button.disabled = false;
    }
  });
}

function wireExport() {
  const form = page.querySelector("[data-export-form]");
  const status = form.querySelector("[data-export-status]");
  const result = page.querySelector("[data-export-result]");
  const button = form.querySelector("[data-export]");
  let url = null;
  button.disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const passphrase = form.querySelector("[data-export-passphrase]").value;
    const rows = myRooms.list();
    if (rows.length === 0) return say(status, t("No rooms are remembered on this device yet."), true);
    if (!passphraseStrength(passphrase).ok) {
      return say(
        status,
        t("Choose a stronger passphrase for the export: four or more random words or 16+ mixed characters."),
        true,
      );
    }
    say(status, t("Encrypting…"));
    const text = await exportRooms(passphrase, rows);
    page.querySelector("[data-export-text]").value = text;
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    page.querySelector("[data-export-download]").href = url;
    result.hidden = false;
    say(
      status,
      nt(
        "%(count)s room exported. Keep the passphrase: without it the export opens nothing.",
        "%(count)s rooms exported. Keep the passphrase: without it the export opens nothing.",
        rows.length,
      ),
    );
  });
}

function wireImport() {
  const form = page.querySelector("[data-import-form]");
  const text = form.querySelector("[data-import-text]");
  const status = form.querySelector("[data-import-status]");
  const button = form.querySelector("[data-import]");
  button.disabled = false;
  form.querySelector("[data-import-file]").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (file) text.value = await file.text(); // read here; the file goes nowhere
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    say(status, t("Decrypting…"));
    try {
      const rows = await readExport(text.value.trim(), form.querySelector("[data-import-passphrase]").value);
      const count = importRooms(rows);
      say(
        status,
        nt(
          "Imported %(count)s room: it is listed under “My rooms”.",
          "Imported %(count)s rooms: they are listed under “My rooms”.",
          count,
        ),
      );
    } catch (error) {
      say(status, error.message, true);
    } finally {
      button.disabled = false;
    }
  });
}

wireNewRoom();
wireExport();
wireImport();
