// Bundles the dashboard page (local/dashboard/page/, uPlot and its stylesheet from node_modules) with
// esbuild, in memory, when the dashboard starts: the machine may be offline, so the page loads
// nothing from anywhere but the dashboard server, and a fresh checkout needs no build step for it.

import { join } from 'node:path';
import { build } from 'esbuild';

export interface PageBundle {
  html: string;
  js: string;
  css: string;
}

export const PAGE_ASSETS = { js: '/assets/dashboard.js', css: '/assets/dashboard.css' } as const;

// Runs from source (tsx), as all of local/ does: the page is not part of the tsc build.
const PAGE_ENTRY = join(import.meta.dirname, 'page', 'main.ts');

export async function bundlePage(): Promise<PageBundle> {
  const result = await build({
    entryPoints: [PAGE_ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outdir: 'out',
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js || !css) throw new Error('the dashboard bundle has no script or no stylesheet');
  return { html: PAGE_HTML, js: js.text, css: css.text };
}

const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleet-features dashboard</title>
<link rel="stylesheet" href="${PAGE_ASSETS.css}">
</head>
<body>
<header>
  <h1>fleet-features</h1>
  <span id="model"></span>
  <span id="status" role="status">connecting…</span>
</header>
<main>
  <section id="health" aria-labelledby="health-title">
    <h2 id="health-title">Pipeline health</h2>
    <div id="health-tiles" class="tiles"></div>
    <div id="health-charts" class="charts"></div>
  </section>
  <section id="fleet" aria-labelledby="fleet-title">
    <h2 id="fleet-title">Fleet <small>latest vector per vehicle, from the features API; click a column to sort, a row to chart it</small></h2>
    <table id="fleet-table"><thead></thead><tbody></tbody></table>
    <p id="fleet-empty" class="empty">No vehicle has features yet.</p>
  </section>
  <section id="vehicle" aria-labelledby="vehicle-title">
    <h2 id="vehicle-title">Vehicle</h2>
    <p id="vehicle-span" class="note"></p>
    <div id="vehicle-charts" class="charts"></div>
  </section>
</main>
<script type="module" src="${PAGE_ASSETS.js}"></script>
</body>
</html>
`;
