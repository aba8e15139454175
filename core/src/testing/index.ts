// Test helpers shared across the workspace (@clickthread/core/testing). Never imported by production code.
export { startFakeTracker, type FakeTracker, type TrackerBehaviour, type RecordedRequest } from './fake-tracker.ts';
export { buildJobDraft, buildOfferInput } from './builders.ts';
