import { createMemoryRunStore } from "../../shared/store/memory-store.js";
import { describeRunStoreContract } from "../integration/store-conformance.js";

describeRunStoreContract("memory", async () => {
  const store = createMemoryRunStore();
  await store.init();
  return store;
});
