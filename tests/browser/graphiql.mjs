// GraphiQL in headless Chromium against a running gateway, with every
// request to a host other than 127.0.0.1 aborted: the page must render the
// schema, sign in, run a query and a subscription from the gateway's files.
//
//   node graphiql.mjs <gateway base URL> <tenant slug> <email> <password> <folder for screenshots>
//
// playwright-core comes from $BROWSER_TOOLS/node_modules (see run.sh).

import { createRequire } from 'node:module';
import path from 'node:path';

const [base, slug, email, password, work] = process.argv.slice(2);
const tools = process.env.BROWSER_TOOLS;
if (!base || !work || !tools) {
  console.error('usage: BROWSER_TOOLS=<dir> node graphiql.mjs <base URL> <slug> <email> <password> <folder>');
  process.exit(2);
}
const { chromium } = createRequire(path.join(tools, 'node_modules', '.'))('playwright-core');

const TIMEOUT = 30_000;
const blocked = [];
const requested = [];
const pageErrors = [];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let page;
let step = 'start';
try {
  const context = await browser.newContext();
  // Offline but for the gateway: anything else is aborted and remembered.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') {
      return route.continue();
    }
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('request', (request) => requested.push(request.url()));
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`  browser console: ${message.text()}`);
  });

  step = 'load /graphql';
  const response = await page.goto(`${base}/graphql`);
  if (!response || response.status() !== 200) {
    throw new Error(`GET /graphql answered ${response && response.status()}`);
  }
  await page.locator('.graphiql-container').waitFor();

  step = 'the documentation explorer shows the schema';
  await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
  const explorer = page.locator('.graphiql-doc-explorer');
  await explorer.getByRole('link', { name: 'Query', exact: true }).click();
  await explorer.getByText('properties', { exact: true }).first().waitFor();
  await explorer.getByText('Property', { exact: false }).first().waitFor();

  step = 'sign in with the login mutation';
  await typeInto(
    '.graphiql-query-editor',
    `mutation { login(tenantSlug: "${slug}", email: "${email}", password: "${password}") { accessToken role } }`,
  );
  const login = await run((r) => r?.data?.login?.accessToken);
  const token = login.data.login.accessToken;
  console.log(`  signed in as ${email} (${login.data.login.role}) through GraphiQL`);

  step = 'put the token in the Headers tab';
  await page.getByRole('button', { name: 'Headers' }).click();
  await typeInto(
    'section.graphiql-editor-tool .graphiql-editor:not(.hidden)',
    `{"Authorization": "Bearer ${token}"}`,
  );

  step = 'run a query as the signed-in user';
  await typeInto('.graphiql-query-editor', '{ properties(first: 3) { nodes { propertyId city } } }');
  const listed = await run((r) => r?.data?.properties || r?.errors);
  if (listed.errors || listed.data.properties.nodes.length === 0) {
    throw new Error(`the query found no properties: ${JSON.stringify(listed)}`);
  }
  const cities = listed.data.properties.nodes.map((n) => n.city).join(', ');
  console.log(`  the result pane lists ${listed.data.properties.nodes.length} properties (${cities})`);

  step = 'run a subscription over the WebSocket';
  await typeInto('.graphiql-query-editor', 'subscription { activity(kinds: [PROPERTY]) { eventType summary } }');
  const subscribed = new Promise((resolve) => {
    page.on('websocket', (socket) => {
      socket.on('framesent', (frame) => {
        if (String(frame.payload).includes('"subscribe"')) resolve();
      });
    });
  });
  await page.locator('.graphiql-execute-button').click();
  await withTimeout(subscribed, 'GraphiQL never subscribed over the WebSocket');
  // Once the gateway has taken the subscription, create a property elsewhere.
  await page.waitForTimeout(500);
  await createProperty(token);
  const event = await waitForResult((r) => r?.data?.activity);
  console.log(`  the subscription delivered ${event.data.activity.eventType}: ${event.data.activity.summary}`);
  await page.locator('.graphiql-execute-button').click(); // stops it

  step = 'nothing was loaded from elsewhere';
  if (blocked.length > 0) {
    throw new Error(`the page asked for other hosts: ${blocked.join(', ')}`);
  }
  const assets = requested.filter((url) => url.includes('/graphiql/assets/'));
  if (assets.length < 4) {
    throw new Error(`expected the page to load its 4 files from the gateway, saw: ${assets.join(', ')}`);
  }
  if (pageErrors.length > 0) {
    throw new Error(`errors in the page: ${pageErrors.join('; ')}`);
  }
  console.log(`  ${requested.length} requests, all to 127.0.0.1; none blocked`);
} catch (error) {
  console.error(`GraphiQL check failed at "${step}": ${error.message}`);
  if (pageErrors.length > 0) console.error(`  errors in the page: ${pageErrors.join('; ')}`);
  if (blocked.length > 0) console.error(`  blocked requests: ${blocked.join(', ')}`);
  if (page) {
    const shot = path.join(work, 'graphiql-failure.png');
    await page.screenshot({ path: shot }).catch(() => {});
    console.error(`  screenshot: ${shot}`);
  }
  await browser.close();
  process.exit(1);
}
await browser.close();

/** Replaces an editor's text by typing it, as a person would. */
async function typeInto(selector, text) {
  const editor = page.locator(`${selector} .CodeMirror`).first();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
  await page.keyboard.press('Escape'); // closes an autocompletion list, if any
  // CodeMirror closes brackets and quotes as they are typed; the text
  // must still be exactly what was typed.
  const value = await editor.evaluate((node) => node.CodeMirror.getValue());
  if (value !== text) {
    throw new Error(`the editor holds ${JSON.stringify(value)}, not ${JSON.stringify(text)}`);
  }
  // GraphiQL parses the text after a pause in typing; run too early and it
  // picks the transport (HTTP or WebSocket) from the previous document.
  await page.waitForTimeout(500);
}

/** Runs the query editor's operation and waits for a result `accept` likes. */
async function run(accept) {
  await page.locator('.graphiql-execute-button').click();
  return waitForResult(accept);
}

/** The result pane's JSON, once `accept` returns something truthy for it. */
async function waitForResult(accept) {
  const pane = page.locator('.result-window .CodeMirror').first();
  const deadline = Date.now() + TIMEOUT;
  let last = '';
  while (Date.now() < deadline) {
    last = await pane.evaluate((node) => node.CodeMirror.getValue()).catch(() => '');
    try {
      const parsed = JSON.parse(last);
      if (accept(parsed)) return parsed;
    } catch {
      // not (yet) JSON
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`the result pane shows ${JSON.stringify(last.slice(0, 500))}`);
}

/** `promise`, or an error saying `what` after the usual timeout. */
function withTimeout(promise, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), TIMEOUT);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Creates a property through the gateway, outside the browser. */
async function createProperty(token) {
  const query = `mutation($key: UUID!) { createProperty(command: { idempotencyKey: $key }, input: {
      address: { street: "Oranienstraße 1", postalCode: "10997", city: "Berlin", country: "DE" }
      kind: APARTMENT, askingPrice: { amountMinor: "42000000", currency: "EUR" }, tags: [] }) { recordId } }`;
  const answer = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables: { key: crypto.randomUUID() } }),
  }).then((r) => r.json());
  if (answer.errors) throw new Error(`createProperty failed: ${JSON.stringify(answer.errors)}`);
}
