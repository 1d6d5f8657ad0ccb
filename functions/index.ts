// The Functions host loads this file (package.json "main"): one import per function.
import "./register-run.js";
import "./sweep.js";
import "./poll-shard.js";
import "./publish-outbox.js";
import "./open-ticket.js";
import "./purge-history.js";
import "./discover-runs.js";
import "./api.js";
import "./dashboard.js";
import "./insights.js";
