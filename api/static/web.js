/* sprintclear pages: the only script. Nothing here decides anything clinical.
 *
 * 1. A page that shows problems after a form post moves the focus to their
 *    summary, so a keyboard or screen-reader user hears them first.
 * 2. The assessment form shows the limb symmetry index of each bilateral test
 *    while it is typed: injured ÷ uninjured × 100, rounded to one decimal half
 *    up, as engine/measures.py defines it. The arithmetic is exact (BigInt on
 *    the decimal digits as typed), so 180.1 ÷ 200 gives 90.1, as the server
 *    does, where binary floating point would give 90.0. It is a preview only:
 *    the server computes the value that decides.
 * 3. A new assessment form proposes today's date. The server only knows its
 *    own date in UTC; the device's date is the clinic's, so it replaces the
 *    proposal (a morning session east of UTC is not dated yesterday). A date
 *    the clinician typed, or a stored one being corrected, is left alone.
 */
"use strict";

(function () {
  var problems = document.getElementById("problems");
  if (problems) {
    problems.focus();
  }

  var DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

  function parseDecimal(text) {
    text = text.trim();
    if (text.length === 0 || text.length > 32 || !DECIMAL.test(text)) {
      return null;
    }
    var negative = text.charAt(0) === "-";
    text = text.replace(/^[+-]/, "");
    var parts = text.split(".");
    var whole = parts[0] || "0";
    var fraction = parts[1] || "";
    var digits = BigInt(whole + fraction);
    return { digits: negative ? -digits : digits, scale: fraction.length };
  }

  function tenthsOfLsi(injured, uninjured) {
    // injured = a / 10^sa, uninjured = b / 10^sb; LSI × 10 = a × 10^sb × 1000 / (b × 10^sa)
    var numerator = injured.digits * BigInt(10) ** BigInt(uninjured.scale) * BigInt(1000);
    var denominator = uninjured.digits * BigInt(10) ** BigInt(injured.scale);
    // round half up: floor(n / d + 1/2) = floor((2n + d) / 2d), for n ≥ 0 and d > 0
    return (BigInt(2) * numerator + denominator) / (BigInt(2) * denominator);
  }

  function formatTenths(tenths) {
    return (tenths / BigInt(10)).toString() + "." + (tenths % BigInt(10)).toString();
  }

  function limbSymmetryText(injuredText, uninjuredText) {
    if (injuredText.trim() === "" && uninjuredText.trim() === "") {
      return "LSI: not assessed (both sides empty)";
    }
    var injured = parseDecimal(injuredText);
    var uninjured = parseDecimal(uninjuredText);
    if (injured === null || uninjured === null) {
      return "LSI: enter both sides as numbers";
    }
    if (injured.digits < BigInt(0) || uninjured.digits < BigInt(0)) {
      return "LSI: a side is below 0";
    }
    if (uninjured.digits === BigInt(0)) {
      return "LSI: cannot be computed, the uninjured side is 0";
    }
    return "LSI " + formatTenths(tenthsOfLsi(injured, uninjured)) + " %";
  }

  window.sprintclearLimbSymmetryText = limbSymmetryText;

  var proposed = document.getElementById("proposed-date");
  var assessmentDate = document.querySelector('input[name="assessment.date"]');
  if (proposed && assessmentDate &&
      assessmentDate.value === proposed.getAttribute("data-utc-date")) {
    var now = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    assessmentDate.value = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" +
      pad(now.getDate());
  }

  var outputs = document.querySelectorAll("output[data-lsi-injured]");
  Array.prototype.forEach.call(outputs, function (output) {
    var injured = document.getElementById(output.getAttribute("data-lsi-injured"));
    var uninjured = document.getElementById(output.getAttribute("data-lsi-uninjured"));
    if (!injured || !uninjured) {
      return;
    }
    function update() {
      output.textContent = limbSymmetryText(injured.value, uninjured.value);
    }
    injured.addEventListener("input", update);
    uninjured.addEventListener("input", update);
    update();
  });
})();
