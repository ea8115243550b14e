// The chat's end-to-end check in real headless Chromium (issue 16's proof). Run by
// scripts/browser.sh, which starts Redis, two `ws-server --mode chat --redis` processes and
// HAProxy in front, and passes:
//   CHAT_URL     the page through HAProxy (http://127.0.0.1:PORT/)
//   SERVER_PIDS  the two ws-server process ids, space-separated
//   SERVER_LOGS  their log files, space-separated (for the refused origin)
//   SCREENSHOT   where to write the picture of the two chatting pages
//   CHROMIUM     the browser (default /usr/bin/chromium)
// Every wait has a deadline; the first failure stops the check with a message that says
// which step failed.

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const url = process.env.CHAT_URL;
const pids = (process.env.SERVER_PIDS || '').split(/\s+/).filter(Boolean).map(Number);
const logs = (process.env.SERVER_LOGS || '').split(/\s+/).filter(Boolean);
const screenshot = process.env.SCREENSHOT || 'chat.png';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 15000;
const XSS = '<img src=x onerror=alert(1)>';

if (!url || pids.length !== 2) {
  console.error('chat-check: needs CHAT_URL and two SERVER_PIDS (run scripts/browser.sh)');
  process.exit(2);
}

let step = 'starting';
const say = (text) => console.log(`chat-check: ${text}`);
function fail(text) {
  throw new Error(`${step}: ${text}`);
}
// What the pages' event handlers saw go wrong (a dialog, a script error, a CSP block):
// every wait checks it, so the step it happened in fails.
const problems = [];
function check() {
  if (problems.length) fail(problems.join('; '));
}

async function poll(what, probe, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    check();
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) fail(`no ${what} within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

try {
  const context = await browser.newContext({ viewport: { width: 420, height: 640 } });
  context.setDefaultTimeout(WAIT_MS);

  async function openChat(name) {
    const page = await context.newPage();
    page.on('dialog', async (dialog) => {
      problems.push(`a dialog opened on ${name}'s page ("${dialog.message()}"): text ran as code`);
      await dialog.dismiss();
    });
    page.on('pageerror', (err) => problems.push(`script error on ${name}'s page: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) {
        problems.push(`CSP blocked something on ${name}'s page: ${msg.text()}`);
      }
    });
    const response = await page.goto(url);
    if (!response || response.status() !== 200) fail(`GET ${url} gave ${response && response.status()}`);
    const headers = response.headers();
    if (!/^text\/html/.test(headers['content-type'] || '')) fail(`content-type ${headers['content-type']}`);
    if (!/script-src 'sha256-/.test(headers['content-security-policy'] || '')) {
      fail(`no hash-based Content-Security-Policy: ${headers['content-security-policy']}`);
    }
    // Every state the status line goes through, for the reconnection step.
    await page.evaluate(() => {
      window.__states = [];
      const status = document.getElementById('status');
      new MutationObserver(() => window.__states.push(status.textContent)).observe(status, {
        childList: true, characterData: true, subtree: true,
      });
    });
    await page.getByLabel('Your name', { exact: true }).fill(name);
    await page.getByLabel('Room', { exact: true }).fill('lobby');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.waitForSelector('#status[data-state="connected"]');
    return page;
  }

  const serverOf = async (page) => {
    const text = await page.textContent('#server');
    const pid = Number((/server (\d+)\./.exec(text) || [])[1]);
    if (!pids.includes(pid)) fail(`page shows "${text}", not one of the servers ${pids}`);
    return pid;
  };

  async function expectLine(page, who, text, what) {
    await poll(what, () =>
      page.evaluate(
        ([who, text]) =>
          [...document.querySelectorAll('#log li')].some(
            (li) => li.querySelector('.who')?.textContent === who && li.querySelector('.text')?.textContent === text,
          ),
        [who, text],
      ),
    );
  }

  step = 'two pages through HAProxy';
  const alice = await openChat('alice');
  const bob = await openChat('bob');
  const aliceServer = await serverOf(alice);
  const bobServer = await serverOf(bob);
  if (aliceServer === bobServer) fail(`both pages landed on server ${aliceServer}; HAProxy should spread them`);
  say(`alice is on server ${aliceServer}, bob on server ${bobServer}`);

  step = 'a message across the two servers';
  await alice.getByLabel('Message', { exact: true }).fill('hello from alice');
  await alice.getByLabel('Message', { exact: true }).press('Enter');
  await expectLine(bob, 'alice', 'hello from alice', "alice's message on bob's page");
  await bob.getByLabel('Message', { exact: true }).fill('hi alice, bob here');
  await bob.getByRole('button', { name: 'Send' }).click();
  await expectLine(alice, 'bob', 'hi alice, bob here', "bob's message on alice's page");
  say('messages cross between the two servers (through Redis)');

  step = 'presence across the two servers';
  for (const page of [alice, bob]) {
    await poll('"2 in the room: alice, bob"', async () =>
      /^2 in the room: alice, bob$/.test(await page.textContent('#presence')),
    );
  }
  say('both pages count 2 in the room');

  step = 'markup sent as a message';
  await alice.getByLabel('Message', { exact: true }).fill(XSS);
  await alice.getByLabel('Message', { exact: true }).press('Enter');
  await expectLine(bob, 'alice', XSS, 'the markup shown as text on bob\'s page');
  for (const page of [alice, bob]) {
    const images = await page.locator('#log img').count();
    if (images !== 0) fail(`${images} <img> elements in the message list: markup was parsed`);
  }
  say('markup shows as text, no element made, no dialog');

  step = 'screenshot';
  const shots = [await alice.screenshot(), await bob.screenshot()];
  const board = await context.newPage();
  await board.setViewportSize({ width: 860, height: 640 });
  await board.setContent(
    `<body style="margin:0;display:flex;gap:20px;background:#ccc">${shots
      .map((png) => `<img alt="" style="width:420px" src="data:image/png;base64,${png.toString('base64')}">`)
      .join('')}</body>`,
  );
  await board.screenshot({ path: screenshot });
  await board.close();
  say(`screenshot of the two pages in ${screenshot}`);

  step = "alice's server killed";
  const draft = 'half-typed, must survive';
  await alice.getByLabel('Message', { exact: true }).fill(draft);
  await alice.evaluate(() => { window.__states.length = 0; });
  process.kill(aliceServer, 'SIGKILL');
  say(`killed server ${aliceServer} (SIGKILL)`);
  await poll('"reconnecting" on alice\'s page', () =>
    alice.evaluate(() => window.__states.some((s) => /reconnecting/.test(s))),
  );
  await alice.waitForSelector('#status[data-state="connected"]', { timeout: 30000 });
  const newServer = await serverOf(alice);
  if (newServer !== bobServer) fail(`alice came back on server ${newServer}, expected ${bobServer}`);
  const kept = await alice.getByLabel('Message', { exact: true }).inputValue();
  if (kept !== draft) fail(`the draft was "${draft}", after reconnecting "${kept}"`);
  say(`alice's page showed ${JSON.stringify(await alice.evaluate(() => window.__states.filter((s) => /reconnecting/.test(s))[0]))}, came back on server ${newServer} with the draft intact`);

  step = 'chat after the reconnection';
  await alice.getByLabel('Message', { exact: true }).press('Enter');
  await expectLine(bob, 'alice', draft, "alice's draft on bob's page after the reconnection");
  await bob.getByLabel('Message', { exact: true }).fill('welcome back');
  await bob.getByLabel('Message', { exact: true }).press('Enter');
  await expectLine(alice, 'bob', 'welcome back', "bob's message on alice's page after the reconnection");
  say('chat resumed both ways');

  step = 'a page from another origin';
  // A real page of another origin: another port on this machine, served from here.
  const other = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>another site</title><p>another site</p>');
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  const evilOrigin = `http://127.0.0.1:${other.address().port}`;
  const evil = await context.newPage();
  await evil.goto(`${evilOrigin}/`);
  const wsUrl = url.replace(/^http/, 'ws').replace(/\/$/, '') + '/ws/lobby';
  const outcome = await evil.evaluate(
    (wsUrl) =>
      new Promise((resolve) => {
        const ws = new WebSocket(wsUrl);
        const timer = setTimeout(() => resolve('no answer in 10 s'), 10000);
        ws.onopen = () => { clearTimeout(timer); ws.close(); resolve('opened'); };
        ws.onclose = (e) => { clearTimeout(timer); resolve(`closed ${e.code}`); };
      }),
    wsUrl,
  );
  if (outcome !== 'closed 1006') fail(`the other origin's WebSocket was ${outcome}, expected refused (1006)`);
  await poll('the refusal in a server log', () =>
    logs.some((file) => {
      try {
        return readFileSync(file, 'utf8').includes(`origin ${evilOrigin} is not this chat's`);
      } catch {
        return false;
      }
    }),
  );
  other.close();
  say(`a page from ${evilOrigin} was refused (403, logged by the server)`);
  step = 'the last server drains';
  // SIGTERM: the server drains (browser.sh gives it --drain-grace 0) and closes every page
  // with 1001; each page says so and waits to reconnect, keeping its draft.
  await bob.getByLabel('Message', { exact: true }).fill('typed during the drain');
  await bob.evaluate(() => { window.__states.length = 0; });
  process.kill(bobServer, 'SIGTERM');
  for (const [who, page] of [['alice', alice], ['bob', bob]]) {
    await poll(`"server going away" on ${who}'s page`, () =>
      page.evaluate(() => window.__states.some((s) => /^server going away: reconnecting in \d+ s$/.test(s))),
    );
  }
  const kept2 = await bob.getByLabel('Message', { exact: true }).inputValue();
  if (kept2 !== 'typed during the drain') fail(`bob's draft became "${kept2}"`);
  say('a drained server (1001): both pages show "server going away: reconnecting in N s", drafts kept');

  step = 'the end';
  check();
  say('all steps passed');
} catch (err) {
  console.error(`chat-check: FAILED: ${err.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
