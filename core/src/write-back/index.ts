// @clickthread/core/write-back: write-backs (a settled postback shown on its order) kept and tried
// again when the store does not take them.
export {
  createDurableWriteBack,
  defaultWriteBackSchedule,
  type DurableWriteBack,
  type DurableWriteBackOptions,
  type WriteBackAnswer,
  type WriteBackCall,
  type WriteBackFn,
  type WriteBackSummary,
} from './durable-write-back.ts';
