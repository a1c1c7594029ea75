from cfgen.cli import main

main()
