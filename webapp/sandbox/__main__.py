"""`python -m webapp.sandbox`: the stand-in JustClick on its own port."""

from webapp.sandbox.standin import main

main()
