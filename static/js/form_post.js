// response_mode=form_post.jwt (JARM): post the signed response to the portal at once.
document.getElementById("form-post")?.submit();
