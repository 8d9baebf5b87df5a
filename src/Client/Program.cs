// Placeholder entry point; the mtactors CLI is built in the session-grains issue.
return 0;
