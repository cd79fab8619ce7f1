/* The download page (SPEC §15.2–§15.4): refine the server's OS/arch guess with high-entropy Client
 * Hints, swap the hero in place when the guess changes, and send the page's events through the
 * tracker. Without JS the server's hero stands. Hooks: data-download-page, data-hero,
 * <template data-hero-variant>, a[data-installer]. `heroKey` mirrors multica/downloads/pages.py. */
(() => {
  "use strict";

  const page = document.querySelector("[data-download-page]");
  if (!page) return;
  const versionAvailable = page.dataset.versionAvailable === "true";
  const version = page.dataset.version;
  let detection = null; // null until detection resolves

  const tracker = () => window.multicaAnalytics;

  function osFromPlatform(platform) {
    const p = String(platform || "").toLowerCase();
    if (p.includes("mac") || p === "darwin") return "mac";
    if (p.includes("win")) return "windows";
    if (p.includes("linux")) return "linux";
    return "unknown";
  }

  function archFromArchitecture(architecture) {
    const a = String(architecture || "").toLowerCase();
    if (["arm", "arm64", "aarch64"].includes(a)) return "arm64";
    if (["x86", "x86_64", "amd64", "x64"].includes(a)) return "x64";
    return "unknown";
  }

  // §15.2 step 3: User-Agent and navigator.platform; never confident.
  function fallbackDetection() {
    const ua = navigator.userAgent || "";
    const platform = navigator.platform || "";
    let os = "unknown";
    if (/Mac|iPhone|iPad|iPod/i.test(platform) || /Mac OS X/i.test(ua)) os = "mac";
    else if (/Win/i.test(platform) || /Windows/i.test(ua)) os = "windows";
    else if (/Linux/i.test(platform) || /Linux/i.test(ua)) os = "linux";
    let arch = "unknown";
    if (os === "mac") arch = "arm64"; // Safari always reports Intel: Apple silicon is the better default
    else if (/arm|aarch/i.test(ua)) arch = "arm64";
    else if (os !== "unknown") arch = "x64";
    return { os, arch, confident: false };
  }

  async function detect() {
    if (typeof navigator === "undefined") return { os: "unknown", arch: "unknown", confident: false };
    const uaData = navigator.userAgentData;
    if (uaData && typeof uaData.getHighEntropyValues === "function") {
      try {
        const values = await uaData.getHighEntropyValues(["platform", "architecture"]);
        const arch = archFromArchitecture(values.architecture);
        return { os: osFromPlatform(values.platform), arch, confident: arch !== "unknown" };
      } catch (e) {} // rejected: fall through to the User-Agent
    }
    return fallbackDetection();
  }

  function heroKey(d) {
    if (d.os === "mac") {
      if (d.confident && d.arch === "x64") return "mac-intel";
      return d.confident ? "mac-confident" : "mac";
    }
    if (d.os === "windows" || d.os === "linux") return `${d.os}-${d.arch === "arm64" ? "arm64" : "x64"}`;
    return "unknown";
  }

  function showHero(key) {
    if (key === page.dataset.heroKey) return;
    const variant = page.querySelector(`template[data-hero-variant="${key}"]`);
    const hero = page.querySelector("[data-hero]");
    if (!variant || !hero) return;
    hero.replaceChildren(variant.content.cloneNode(true));
    page.dataset.heroKey = key;
  }

  function onClick(event) {
    const link = event.target instanceof Element ? event.target.closest("a[data-installer]") : null;
    if (!link || !versionAvailable || !tracker()) return;
    const primary = Boolean(link.closest("[data-hero]"));
    const { platform, arch, format } = link.dataset;
    tracker().capture("download_initiated", {
      platform,
      arch,
      format,
      version,
      primary_cta: primary,
      matched_detect: primary || Boolean(detection && detection.os === platform && detection.arch === arch),
    });
  }

  document.addEventListener("click", onClick, true);
  detect()
    .catch(() => fallbackDetection())
    .then((resolved) => {
      detection = resolved;
      showHero(heroKey(resolved));
      const a = tracker();
      if (!a) return;
      a.capture("download_page_viewed", {
        detected_os: resolved.os,
        detected_arch: resolved.arch,
        detect_confident: resolved.confident,
        version_available: versionAvailable,
      });
      a.setPersonPropertiesOnce({ first_detected_os: resolved.os, first_detected_arch: resolved.arch });
    });
})();
