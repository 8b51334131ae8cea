// A meter around the issuer's D1 binding, for the query-plan test and bench/growth.mjs: a
// wrapped binding (evaluated in the issuer's isolate) that passes every call to the real local
// D1 and reports each round trip — its statements, their parameters and D1's `meta`
// (rows_read, rows_written) — to a function in Node before it answers. The issuer's code is
// the shipped build: only its `DB` binding is the meter (`startIssuer({ meterD1 })`).

/** The wrapped binding's module. workers-rs accepts a binding whose class is `D1Database`. */
const METER_MODULE = `
class D1PreparedStatement {
  constructor(db, inner, sql, params = []) {
    this.db = db; this.inner = inner; this.sql = sql; this.params = params;
  }
  bind(...params) {
    return new D1PreparedStatement(this.db, this.inner.bind(...params), this.sql, params);
  }
  async #one(result) {
    await this.db.report("statement", [{ sql: this.sql, params: this.params, meta: result.meta }]);
    return result;
  }
  async first(column) {
    // D1's first() runs the whole statement too; all() also gives its meta.
    const { results } = await this.#one(await this.inner.all());
    const row = results[0] ?? null;
    return column == null || row === null ? row : (row[column] ?? null);
  }
  async run() { return this.#one(await this.inner.run()); }
  async all() { return this.#one(await this.inner.all()); }
  async raw(options) { return this.inner.raw(options); }
}

class D1Database {
  constructor(db, sink) { this.db = db; this.sink = sink; }
  prepare(sql) { return new D1PreparedStatement(this, this.db.prepare(sql), sql); }
  async batch(statements) {
    const results = await this.db.batch(statements.map((s) => s.inner));
    await this.report("batch", statements.map((s, i) => ({ sql: s.sql, params: s.params, meta: results[i].meta })));
    return results;
  }
  async exec(query) {
    const result = await this.db.exec(query);
    await this.report("exec", [{ sql: query, params: [], meta: {} }]);
    return result;
  }
  withSession() { throw new Error("d1-meter: withSession is not metered"); }
  dump() { return this.db.dump(); }
  async report(kind, statements) {
    const body = JSON.stringify({ kind, statements: statements.map(({ sql, params, meta }) =>
      ({ sql, params, rows_read: meta?.rows_read ?? 0, rows_written: meta?.rows_written ?? 0 })) });
    await this.sink.fetch("http://d1-meter/", { method: "POST", body });
  }
}

export default function (env) {
  return new D1Database(env.DB, env.SINK);
}`;

/**
 * The Miniflare worker that holds the meter's inner bindings (the real D1 `DB`, the same
 * database id as the issuer's) and the sink: `onRoundTrip({kind, statements})` in Node.
 */
export function meterWorker(d1Id, onRoundTrip) {
  return {
    name: "d1-meter",
    modules: true,
    script: METER_MODULE,
    d1Databases: { DB: d1Id },
    serviceBindings: {
      SINK: async (request) => {
        onRoundTrip(await request.json());
        return new Response(null, { status: 204 });
      },
    },
  };
}

/** Collects the round trips of the requests made between `take()` calls. */
export class D1Meter {
  roundTrips = [];
  record = (trip) => this.roundTrips.push(trip);

  /** The round trips since the last call, and their sums. */
  take() {
    const trips = this.roundTrips;
    this.roundTrips = [];
    const statements = trips.flatMap((t) => t.statements);
    return {
      trips,
      statements,
      roundTrips: trips.length,
      rowsRead: statements.reduce((n, s) => n + s.rows_read, 0),
      rowsWritten: statements.reduce((n, s) => n + s.rows_written, 0),
    };
  }
}
