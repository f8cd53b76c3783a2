// PostGraphile over deedlog's read-model tables, as the gateway bench's peer.
// Usage: node server.js <database url> <port> <tenant uuid> <pool size>
// Every request runs as deedlog_app with the tenant bound, as the gateway's
// reads do, so row-level security applies the same way. It verifies no
// token: that only makes its work lighter than the gateway's.
const http = require('http');
const { Pool } = require('pg');
const { postgraphile } = require('postgraphile');

const [, , url, port, tenant, poolSize] = process.argv;
const pool = new Pool({ connectionString: url, max: Number(poolSize) });
const handler = postgraphile(pool, ['rm_properties', 'rm_deals', 'rm_communications', 'bench_peer'], {
  pgSettings: async () => ({ role: 'deedlog_app', 'deedlog.tenant_id': tenant }),
  disableQueryLog: true,
  retryOnInitFail: false,
  graphiql: false,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
});
http.createServer(handler).listen(Number(port), '127.0.0.1', () => {
  console.log(`postgraphile listening on ${port}`);
});
