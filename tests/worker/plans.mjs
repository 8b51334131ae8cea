// What SQLite's EXPLAIN QUERY PLAN may say of a statement edgejwt runs (the issuer's, in
// query-plans.test.mjs; the CLI's, in tests/cli): no table scan, no index walked by a range
// alone. The costs behind it: docs/SCALING.md.

/** Statements allowed to walk an index by a range: what they read is what they delete. */
const RANGE_ALLOWED = [
  // The daily flush: expired rows, each read once and deleted.
  /^DELETE FROM blacklisted_tokens WHERE expires_at < \?1$/,
  /^DELETE FROM outstanding_tokens WHERE expires_at < \?1$/,
  // … the sessions of those tokens, found by them, and audit events past their retention.
  /^DELETE FROM sessions WHERE sid IN \(SELECT sid FROM outstanding_tokens WHERE expires_at < \?1 AND sid IS NOT NULL\) /,
  /^DELETE FROM auth_events WHERE at < \?1$/,
];

/** What is wrong with one EXPLAIN QUERY PLAN row, if anything. */
export function planProblem(detail, sql) {
  // json_each of a bound parameter reads the ids the statement was given, not a table.
  if (/^SCAN /.test(detail) && detail !== "SCAN CONSTANT ROW" && !/^SCAN json_each VIRTUAL TABLE\b/.test(detail)) return "scans a table";
  const search = detail.match(/^SEARCH \S+ USING .*\((.*)\)$/);
  if (search && !search[1].includes("=") && !RANGE_ALLOWED.some((re) => re.test(sql))) {
    return "walks an index by a range only";
  }
  if (/^SEARCH \S+$/.test(detail)) return "searches without an index";
  return null;
}

