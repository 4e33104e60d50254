// "Visa lösenordet": the checkbox shows what was typed in the password fields. Without this
// script the checkbox stays hidden and the form works as before.
(function () {
  "use strict";
  var box = document.getElementById("field-show-password");
  if (!box) return;
  var fields = document.querySelectorAll("input[data-show-password]");
  box.closest(".show-password").hidden = false;
  box.addEventListener("change", function () {
    for (var i = 0; i < fields.length; i++) {
      fields[i].type = box.checked ? "text" : "password";
    }
  });
})();
