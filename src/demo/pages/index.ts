import { startDemoPage } from './api.js';

// The demo's start page: what to open, in which order. All its words are marked in its markup.
startDemoPage(() => undefined);
