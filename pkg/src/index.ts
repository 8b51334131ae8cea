// Types entry: every runtime entry (node, workerd, browser) has this API.
export * from "./browser.js";
