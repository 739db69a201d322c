// The admin's live channel: one WebSocket (/ws/live/) per page, the notification bell, the sidebar
// badges and the "new orders" notice. Other scripts listen to document events:
//   "live:event" (detail: the pushed event) and "live:mode" (detail: "live" or "polling").
// While the socket is down the page says "Polling" and those scripts poll instead.
(function () {
  "use strict";
  const BACKGROUND = { "X-Background-Request": "1", Accept: "application/json" };
  const SESSION_ENDED = 4401;
  const NOTIFICATIONS_POLL_MS = 60000;

  const live = (window.BackofficeLive = window.BackofficeLive || { mode: "polling" });

  function setMode(root, mode) {
    if (live.mode === mode) return;
    live.mode = mode;
    const indicator = root.querySelector("[data-live-indicator]");
    if (indicator) {
      indicator.querySelector("[data-live-state]").textContent =
        mode === "live" ? root.dataset.labelLive : root.dataset.labelPolling;
      indicator.title = mode === "live" ? root.dataset.labelLiveTitle : root.dataset.labelPollingTitle;
      indicator.querySelector("[data-live-dot]").style.background = mode === "live" ? "#16a34a" : "#9ca3af";
      indicator.dataset.mode = mode;
    }
    document.dispatchEvent(new CustomEvent("live:mode", { detail: mode }));
  }

  // --- notifications ------------------------------------------------------------------------

  function levelColour(level) {
    return { success: "#16a34a", warning: "#ea580c", error: "#dc2626" }[level] || "#2563eb";
  }

  function setUnread(root, count) {
    const badge = root.querySelector("[data-live-unread]");
    live.unread = Math.max(0, count);
    badge.textContent = live.unread > 99 ? "99+" : String(live.unread);
    badge.hidden = live.unread === 0;
  }

  function renderItem(root, item) {
    const template = root.querySelector("template[data-live-item]");
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.id = item.id;
    const title = row.querySelector("[data-live-item-title]");
    title.textContent = item.title;
    if (item.url && item.url.startsWith("/") && !item.url.startsWith("//")) title.href = item.url;
    row.querySelector("[data-live-item-body]").textContent = item.body || "";
    const time = row.querySelector("[data-live-item-time]");
    time.dateTime = item.created_at;
    time.textContent = new Date(item.created_at).toLocaleString();
    row.querySelector("[data-live-item-level]").style.background = levelColour(item.level);
    const read = row.querySelector("[data-live-item-read]");
    if (item.read) {
      read.remove();
      row.style.opacity = "0.6";
    } else {
      read.addEventListener("click", () => markRead(root, item.id, row));
    }
    return row;
  }

  function renderList(root, items) {
    const list = root.querySelector("[data-live-list]");
    list.replaceChildren(...items.map((item) => renderItem(root, item)));
    root.querySelector("[data-live-empty]").hidden = items.length > 0;
  }

  function loadNotifications(root) {
    return fetch(root.dataset.liveNotifications, { headers: BACKGROUND, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((data) => {
        live.notifications = data.notifications;
        renderList(root, data.notifications);
        setUnread(root, data.unread);
      })
      .catch(() => {});
  }

  function post(root, url) {
    return fetch(url, {
      method: "POST",
      headers: { ...BACKGROUND, "X-CSRFToken": root.dataset.liveCsrf },
      credentials: "same-origin",
    }).then((response) => (response.ok ? response.json() : Promise.reject(response.status)));
  }

  function markRead(root, id, row) {
    post(root, root.dataset.liveRead.replace("/ID/", "/" + encodeURIComponent(id) + "/"))
      .then((data) => {
        setUnread(root, data.unread);
        row.style.opacity = "0.6";
        const button = row.querySelector("[data-live-item-read]");
        if (button) button.remove();
      })
      .catch(() => loadNotifications(root));
  }

  function setUpBell(root) {
    const bell = root.querySelector("[data-live-bell]");
    const panel = root.querySelector("[data-live-panel]");
    bell.addEventListener("click", (event) => {
      event.stopPropagation();
      panel.hidden = !panel.hidden;
      bell.setAttribute("aria-expanded", String(!panel.hidden));
    });
    document.addEventListener("click", (event) => {
      if (!panel.hidden && !root.contains(event.target)) {
        panel.hidden = true;
        bell.setAttribute("aria-expanded", "false");
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") panel.hidden = true;
    });
    root.querySelector("[data-live-read-all-button]").addEventListener("click", () => {
      post(root, root.dataset.liveReadAll)
        .then(() => loadNotifications(root))
        .catch(() => loadNotifications(root));
    });
    loadNotifications(root);
    // The fallback: while the socket is down, the bell refreshes itself now and then.
    window.setInterval(() => {
      if (live.mode !== "live") loadNotifications(root);
    }, NOTIFICATIONS_POLL_MS);
  }

  function onNotification(root, item) {
    live.notifications = [item, ...(live.notifications || [])].slice(0, 20);
    renderList(root, live.notifications);
    setUnread(root, (live.unread || 0) + 1);
  }

  // --- badges and new orders ----------------------------------------------------------------

  function onBadge(event) {
    const nav = document.getElementById("nav-sidebar-apps");
    if (!nav) return;
    nav.querySelectorAll("a[href]").forEach((link) => {
      if (link.getAttribute("href") !== event.link) return;
      let badge = link.querySelector(".sidebar-badge");
      if (!badge && event.value) {
        badge = document.createElement("span");
        badge.className =
          "sidebar-badge font-semibold h-[18px] leading-[18px] ms-2 px-1 relative rounded-xs text-center " +
          "text-[11px] whitespace-nowrap uppercase min-w-[18px] bg-red-100 text-red-700";
        link.querySelector("span:not(.material-symbols-outlined)").after(badge);
      }
      if (badge) {
        badge.textContent = event.value;
        badge.hidden = !event.value;
      }
    });
  }

  function onNewOrder(root) {
    live.newOrders = (live.newOrders || 0) + 1;
    const count = live.newOrders;
    const text =
      count === 1 ? root.dataset.labelNewOrdersOne : root.dataset.labelNewOrdersMany.replace("%(count)s", count);
    document.querySelectorAll("[data-live-new-orders]").forEach((element) => {
      let button = element.querySelector("button");
      if (!button) {
        button = document.createElement("button");
        button.type = "button";
        button.className =
          "bg-primary-600 text-white font-semibold rounded-default px-3 py-2 cursor-pointer hover:bg-primary-700";
        button.addEventListener("click", () => window.location.reload());
        element.append(button);
      }
      button.textContent = text;
    });
  }

  // --- the socket ---------------------------------------------------------------------------

  function connect(root, attempt) {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    let socket;
    try {
      socket = new WebSocket(scheme + window.location.host + root.dataset.liveSocket);
    } catch (error) {
      setMode(root, "polling");
      return;
    }
    live.socket = socket;
    socket.addEventListener("open", () => {
      attempt = 0;
      setMode(root, "live");
      loadNotifications(root); // whatever arrived while the socket was down
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (event.type === "notification") onNotification(root, event.notification);
      else if (event.type === "badge") onBadge(event);
      else if (event.type === "order.created") onNewOrder(root);
      document.dispatchEvent(new CustomEvent("live:event", { detail: event }));
    });
    socket.addEventListener("close", (event) => {
      setMode(root, "polling");
      // A refused or ended session: try again rarely (a page load will ask to sign in again).
      const delay =
        event.code === SESSION_ENDED ? 60000 : Math.min(30000, 1000 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
      window.setTimeout(() => connect(root, attempt + 1), delay);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.querySelector("[data-live]");
    if (!root) return; // the sign-in page and popups have no bell
    setMode(root, "polling");
    live.mode = "polling";
    setUpBell(root);
    if ("WebSocket" in window) connect(root, 0);
  });
})();
