// Loaded as the first thing in <body> (a file, not inline: the CSP allows no inline
// script). Tells the NHS.UK frontend's CSS and JavaScript that scripts run here.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
