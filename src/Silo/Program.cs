// Placeholder entry point; the silo host is built in the session-grains issue.
return 0;
