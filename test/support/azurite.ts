// Tests use the same launcher as `npm start`.
export { startAzurite, type AzuriteInstance, type StartAzuriteOptions } from "../../local/azurite.js";
