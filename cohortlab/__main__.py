from cohortlab.cli.app import main

main()
