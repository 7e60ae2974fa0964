// The loopback peer lives in src/demo/, where the demo runs the same one the tests do.
export * from '../../src/demo/subscriber.js';
