from cohortlab.cli import main

main()
