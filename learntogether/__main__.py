from learntogether.cli import main

main()
