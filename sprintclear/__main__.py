from sprintclear.cli import main

main()
