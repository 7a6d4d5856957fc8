// Shared page parts: the trending list, the "new private room" button, local hiding.
import { postWithWork } from "../js/api.js";
import { url } from "../js/config.js";
import { t } from "../js/i18n.js";
import { makeKeyCheck, newRoomSecret, roomKey } from "./crypto.js";
import { myRooms, roomHref } from "./keep.js";

export function renderTrending(items) {
  for (const list of document.querySelectorAll("[data-trending]")) {
    const rows = items.map((item) => {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = url("topic", { topic: item.topic });
      const name = document.createElement("bdi"); // "#slug" the same way round in right-to-left pages
      name.textContent = `#${item.topic}`;
      link.append(name);
      li.append(link);
      return li;
    });
    if (rows.length === 0) {
      const li = document.createElement("li");
      li.className = "hint";
      li.textContent = t("Nothing yet.");
      rows.push(li);
    }
    list.replaceChildren(...rows);
  }
}

function wireNewRoom() {
  for (const button of document.querySelectorAll("[data-new-room]")) {
    const status = button.parentElement.querySelector("[data-new-room-status]");
    button.disabled = false; // off in the HTML: without this script no room can be made
    button.addEventListener("click", async () => {
      button.disabled = true;
      if (status) status.textContent = t("Opening a room…");
      try {
        // The key is made here and only ever lives in the fragment; the server
        // keeps a constant sealed with it, so a wrong key can be told apart.
        const secret = newRoomSecret();
        const keyCheck = await makeKeyCheck(await roomKey(secret));
        const room = await postWithWork(url("api-rooms"), { key_check: keyCheck });
        location.assign(`${room.url}#k=${secret}`);
      } catch (error) {
        if (status) {
          status.textContent = t("Could not open a room: %(reason)s", { reason: error.message });
          status.classList.add("error");
        }
        button.disabled = false;
      }
    });
  }
}

// Items this browser chose to hide, kept in localStorage only.
const HIDDEN_KEY = "nullboard:hidden";

export const localHidden = {
  read() {
    try {
      return new Set(JSON.parse(localStorage.getItem(HIDDEN_KEY) || "[]"));
    } catch {
      return new Set();
    }
  },
  has(id) {
    return this.read().has(id);
  },
  toggle(id) {
    const ids = this.read();
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    // Keep the list small: ids expire within a day anyway.
    localStorage.setItem(HIDDEN_KEY, JSON.stringify([...ids].slice(-500)));
    return ids.has(id);
  },
};

// Wire the "Show hidden" checkbox: it toggles a class on the container.
export function wireShowHidden(container) {
  const box = document.querySelector("[data-show-hidden]");
  if (!box) return;
  const apply = () => container.classList.toggle("show-hidden", box.checked);
  box.addEventListener("change", apply);
  apply();
}

// "My rooms": the rooms this browser remembers (localStorage), each with Forget.
export function renderMyRooms() {
  const rows = myRooms.list();
  for (const list of document.querySelectorAll("[data-my-rooms]")) {
    const box = list.parentElement;
    list.replaceChildren(
      ...rows.map((entry, index) => {
        const li = document.createElement("li");
        const link = document.createElement("a");
        link.href = roomHref(entry);
        const name = entry.room.slice(0, 6);
        link.textContent =
          entry.kind === "passphrase" ? t("Passphrase room %(name)s", { name }) : t("Room %(name)s", { name });
        const forget = document.createElement("button");
        forget.type = "button";
        forget.className = "forget";
        forget.textContent = t("Forget");
        forget.setAttribute("aria-label", t("Forget room %(name)s (%(number)s)", { name, number: index + 1 }));
        forget.addEventListener("click", () => myRooms.forget(entry.room));
        li.append(link, forget);
        return li;
      }),
    );
    box.querySelector("[data-my-rooms-empty]").hidden = rows.length > 0;
    box.querySelector("[data-my-rooms-tools]").hidden = rows.length === 0;
  }
}

function wireMyRooms() {
  for (const button of document.querySelectorAll("[data-forget-all]")) {
    button.addEventListener("click", () => {
      if (confirm(t("Forget every room remembered on this device? Keep an export if you will need them.")))
        myRooms.forgetAll();
    });
  }
  window.addEventListener("nullboard:rooms", renderMyRooms);
  window.addEventListener("storage", renderMyRooms); // another tab changed the list
  renderMyRooms();
}

wireNewRoom();
wireMyRooms();
