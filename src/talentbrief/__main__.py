from talentbrief.cli import main

raise SystemExit(main())
