"""The team and its sign-in: `team` (who may sign in, who is signed in to this request), `signin`
(the gate every request passes, the sign-in page and form), `signin_token`, and `language` (each
operator's language and the header's switch)."""
