"""The fixed material the synthetic organisation is drawn from: offices, departments, names.

Plain data, no randomness: :mod:`kith.simulate.org` draws from it with a seeded generator.
Names are common given names and surnames of each region, combined at random, so no row
names a real person; every address is on the reserved ``.example`` domain.
"""

from __future__ import annotations

from dataclasses import dataclass

DOMAIN = "kith-demo.example"


@dataclass(frozen=True, slots=True)
class Office:
    """An office: where people sit, their time zone and the local working day."""

    name: str
    country: str
    timezone: str
    work_start: str
    work_end: str
    work_days: str
    weight: float  # share of the headcount, relative
    region: str  # EMEA, Americas or APAC
    pools: tuple[str, ...]  # the name pools most people here are drawn from


OFFICES: tuple[Office, ...] = (
    Office("London", "United Kingdom", "Europe/London", "09:00", "17:30", "mon-fri", 14, "EMEA",
           ("anglo", "anglo", "indian", "eastern_europe", "west_africa")),
    Office("New York", "United States", "America/New_York", "09:00", "17:30", "mon-fri", 12, "Americas",
           ("anglo", "anglo", "hispanic", "east_asia", "west_africa")),
    Office("San Francisco", "United States", "America/Los_Angeles", "09:00", "17:30", "mon-fri", 8,
           "Americas", ("anglo", "hispanic", "east_asia", "indian")),
    Office("Toronto", "Canada", "America/Toronto", "09:00", "17:00", "mon-fri", 5, "Americas",
           ("anglo", "french", "east_asia", "indian")),
    Office("Mexico City", "Mexico", "America/Mexico_City", "09:00", "18:00", "mon-fri", 3, "Americas",
           ("hispanic",)),
    Office("São Paulo", "Brazil", "America/Sao_Paulo", "09:00", "18:00", "mon-fri", 6, "Americas",
           ("brazilian",)),
    Office("Berlin", "Germany", "Europe/Berlin", "08:30", "17:00", "mon-fri", 8, "EMEA",
           ("german", "german", "eastern_europe")),
    Office("Paris", "France", "Europe/Paris", "09:00", "17:30", "mon-fri", 6, "EMEA",
           ("french", "french", "arabic", "west_africa")),
    Office("Lagos", "Nigeria", "Africa/Lagos", "08:00", "16:30", "mon-fri", 4, "EMEA",
           ("west_africa",)),
    Office("Tel Aviv", "Israel", "Asia/Jerusalem", "09:00", "18:00", "sun-thu", 4, "EMEA",
           ("hebrew",)),
    Office("Dubai", "United Arab Emirates", "Asia/Dubai", "08:30", "17:30", "mon-fri", 3, "EMEA",
           ("arabic", "indian", "south_east_asia")),
    Office("Bangalore", "India", "Asia/Kolkata", "09:30", "18:30", "mon-fri", 10, "APAC",
           ("indian",)),
    Office("Singapore", "Singapore", "Asia/Singapore", "09:00", "18:00", "mon-fri", 7, "APAC",
           ("east_asia", "east_asia", "south_east_asia", "indian")),
    Office("Tokyo", "Japan", "Asia/Tokyo", "09:30", "18:00", "mon-fri", 5, "APAC",
           ("japanese",)),
    Office("Sydney", "Australia", "Australia/Sydney", "08:30", "17:00", "mon-fri", 5, "APAC",
           ("anglo", "anglo", "east_asia", "south_east_asia")),
)  # fmt: skip
HEADQUARTERS = ("London", "New York", "San Francisco")


@dataclass(frozen=True, slots=True)
class Department:
    """A department: its share of people, and the titles of its head, managers and staff."""

    name: str
    weight: float
    head: str
    manager: str
    lead: str  # the manager of managers in one office
    staff: tuple[str, ...]


DEPARTMENTS: tuple[Department, ...] = (
    Department("Engineering", 22, "Chief Technology Officer", "Engineering Manager",
               "Director of Engineering",
               ("Software Engineer", "Software Engineer", "Senior Software Engineer",
                "Senior Software Engineer", "Site Reliability Engineer", "QA Engineer", "Data Engineer",
                "Staff Engineer")),
    Department("Product", 7, "Chief Product Officer", "Group Product Manager", "Director of Product",
               ("Product Manager", "Product Designer", "UX Researcher", "Product Analyst")),
    Department("Sales", 12, "Chief Revenue Officer", "Sales Manager", "Regional Sales Director",
               ("Account Executive", "Key Account Manager", "Sales Development Representative",
                "Solutions Consultant")),
    Department("Customer Success", 9, "VP Customer Success", "Customer Success Lead",
               "Director of Customer Success",
               ("Customer Success Manager", "Onboarding Specialist", "Renewals Manager")),
    Department("Support", 9, "VP Customer Support", "Support Team Lead", "Director of Support",
               ("Support Engineer", "Technical Support Specialist", "Support Analyst")),
    Department("Professional Services", 5, "VP Professional Services", "Delivery Manager",
               "Director of Professional Services",
               ("Implementation Consultant", "Solutions Architect", "Technical Trainer")),
    Department("Marketing", 7, "Chief Marketing Officer", "Marketing Manager", "Director of Marketing",
               ("Content Strategist", "Product Marketing Manager", "Events Manager",
                "Growth Marketer")),
    Department("Finance", 5, "Chief Financial Officer", "Finance Manager", "Financial Controller",
               ("Financial Analyst", "Financial Analyst", "Accountant", "Accountant", "FP&A Analyst",
                "Billing Specialist", "Payroll Specialist")),
    Department("People", 4, "Chief People Officer", "People Partner Lead", "Director of People",
               ("HR Business Partner", "Recruiter", "Learning Specialist")),
    Department("Legal", 2, "General Counsel", "Senior Counsel", "Deputy General Counsel",
               ("Legal Counsel", "Privacy Officer", "Contracts Manager")),
    Department("Operations", 5, "Chief Operating Officer", "Operations Manager", "Director of Operations",
               ("Operations Analyst", "IT Specialist", "Workplace Coordinator")),
)  # fmt: skip
EXECUTIVE = "Executive"

# The planted dispersed community draws from these departments (and a few from others).
CUSTOMER_FACING = (("Sales", 0.32), ("Customer Success", 0.30), ("Support", 0.18),
                   ("Professional Services", 0.12), ("Marketing", 0.04), ("Product", 0.04))  # fmt: skip

# Communities of practice: a subject and the departments its members mostly come from.
PRACTICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Platform Engineering", ("Engineering",)),
    ("Site Reliability", ("Engineering", "Support")),
    ("Frontend Guild", ("Engineering", "Product")),
    ("Mobile", ("Engineering", "Product")),
    ("Data & Analytics", ("Engineering", "Product", "Finance")),
    ("Machine Learning", ("Engineering", "Product")),
    ("Security Champions", ("Engineering", "Operations", "Legal")),
    ("API & Integrations", ("Engineering", "Professional Services")),
    ("Design Guild", ("Product", "Marketing")),
    ("Product Discovery", ("Product", "Engineering", "Customer Success")),
    ("Enterprise Deals", ("Sales", "Professional Services", "Legal")),
    ("Partner Alliances", ("Sales", "Marketing")),
    ("Revenue Operations", ("Sales", "Finance", "Operations")),
    ("Support Escalations", ("Support", "Engineering")),
    ("Onboarding", ("Customer Success", "Professional Services")),
    ("Knowledge Base", ("Support", "Customer Success", "Marketing")),
    ("Brand & Content", ("Marketing",)),
    ("Demand Generation", ("Marketing", "Sales")),
    ("Finance & Planning", ("Finance", "Operations")),
    ("Procurement", ("Finance", "Operations", "Legal")),
    ("Talent Acquisition", ("People", "Engineering", "Sales")),
    ("Learning & Development", ("People", "Support", "Customer Success")),
    ("Privacy & Compliance", ("Legal", "Engineering", "Operations")),
    ("Workplace & IT", ("Operations", "People")),
)
PROJECTS = (
    "Atlas", "Borealis", "Cirrus", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris",
    "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orion", "Pioneer", "Quartz",
    "Redwood", "Sierra", "Tundra", "Umbra", "Vega", "Willow", "Xenon", "Yarrow", "Zephyr",
    "Aurora", "Beacon", "Cobalt", "Drift", "Echo", "Falcon", "Glacier", "Helix", "Indigo",
    "Jasper", "Keystone", "Lotus", "Monsoon", "Nova",
)  # fmt: skip
SOCIAL = (
    "running club", "board games", "book club", "climbing", "choir", "football",
    "photography", "cooking club", "volunteers", "chess club", "cycling", "film club",
)  # fmt: skip

# Given names and surnames by region, in their own spelling (addresses are transliterated).
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "anglo": (
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Emily", "Jack", "Sophie", "Thomas",
         "Charlotte", "James", "Grace", "William", "Lucy", "Daniel", "Hannah", "Samuel", "Chloe",
         "Ethan", "Megan", "Liam", "Ava", "Noah", "Mia", "Rachel", "Owen", "Fiona", "Callum"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
         "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
         "Jackson", "Clarke", "Miller", "Anderson", "Campbell", "Murphy", "Kelly", "O'Brien",
         "MacLeod", "Fitzgerald"),
    ),
    "hispanic": (
        ("Mateo", "Sofía", "Santiago", "Valentina", "Diego", "Camila", "Alejandro", "Lucía", "Javier",
         "Isabella", "Carlos", "Mariana", "Luis", "Daniela", "Andrés", "Gabriela", "Miguel",
         "Fernanda", "Ximena", "Rodrigo"),
        ("García", "Martínez", "Hernández", "López", "González", "Rodríguez", "Pérez", "Sánchez",
         "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Morales", "Ortiz", "Castillo",
         "Vargas", "Mendoza", "Guerrero"),
    ),
    "brazilian": (
        ("João", "Ana", "Pedro", "Beatriz", "Lucas", "Mariana", "Gabriel", "Juliana", "Rafael",
         "Larissa", "Felipe", "Camila", "Thiago", "Fernanda", "Bruno", "Letícia", "Gustavo", "Aline"),
        ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Ferreira", "Costa", "Rodrigues",
         "Almeida", "Nascimento", "Carvalho", "Araújo", "Ribeiro", "Barbosa", "Rocha"),
    ),
    "german": (
        ("Lukas", "Lena", "Jonas", "Anna", "Leon", "Marie", "Felix", "Laura", "Maximilian", "Julia",
         "Paul", "Katharina", "Niklas", "Hannah", "Moritz", "Clara", "Tobias", "Johanna"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
         "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann"),
    ),
    "french": (
        ("Louis", "Camille", "Hugo", "Léa", "Arthur", "Manon", "Jules", "Chloé", "Gabriel", "Inès",
         "Raphaël", "Sarah", "Théo", "Juliette", "Nathan", "Élise", "Antoine", "Margaux"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
         "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Fournier", "Girard", "Bonnet", "Mercier"),
    ),
    "eastern_europe": (
        ("Jakub", "Zofia", "Piotr", "Katarzyna", "Tomasz", "Agnieszka", "Michał", "Magdalena", "Ivan",
         "Olena", "Dmitri", "Anastasia", "Andrei", "Ioana", "Marek", "Petra"),
        ("Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Lewandowski", "Petrov", "Shevchenko", "Horvat",
         "Novák", "Popescu", "Ionescu", "Kovač", "Dvořák", "Szabó", "Bondarenko", "Zielinski"),
    ),
    "west_africa": (
        ("Chinedu", "Ngozi", "Emeka", "Adaeze", "Tunde", "Folake", "Oluwaseun", "Chiamaka", "Ibrahim",
         "Aisha", "Obinna", "Funmilayo", "Kelechi", "Zainab", "Babajide", "Amaka", "Kwame", "Ama",
         "Kofi", "Akosua"),
        ("Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Ogunleye", "Nwosu", "Abubakar", "Bello",
         "Adebayo", "Obi", "Olawale", "Chukwu", "Danjuma", "Afolabi", "Okeke", "Mensah", "Owusu",
         "Boateng", "Asante"),
    ),
    "hebrew": (
        ("Noa", "Yonatan", "Tamar", "Itai", "Maya", "Omer", "Shira", "Eitan", "Yael", "Ariel", "Noam",
         "Talia", "Daniel", "Michal", "Amit", "Ronit"),
        ("Cohen", "Levi", "Mizrahi", "Peretz", "Biton", "Friedman", "Avraham", "Katz", "Dahan",
         "Shapiro", "Ben-David", "Golan", "Azoulay", "Segal", "Rosen", "Ohana"),
    ),
    "arabic": (
        ("Omar", "Fatima", "Ahmed", "Layla", "Khalid", "Noor", "Hassan", "Mariam", "Youssef", "Sara",
         "Karim", "Huda", "Tariq", "Rania", "Ali", "Amira"),
        ("Al-Mansouri", "Haddad", "Khoury", "Nasser", "Saleh", "Farouk", "Hamdan", "Aziz", "Rahman",
         "Mansour", "Qasim", "Darwish", "El-Sayed", "Habib", "Karam", "Yousef"),
    ),
    "indian": (
        ("Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Divya", "Arjun", "Kavya", "Rahul", "Sneha",
         "Aditya", "Meera", "Karthik", "Lakshmi", "Sanjay", "Pooja", "Nikhil", "Shreya"),
        ("Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Singh", "Kumar", "Rao", "Menon",
         "Joshi", "Desai", "Mehta", "Chatterjee", "Krishnan", "Pillai", "Banerjee", "Verma"),
    ),
    "east_asia": (
        ("Wei", "Mei Ling", "Jun Jie", "Hui Min", "Jia Hao", "Xin Yi", "Zhi Hao", "Li Ting", "Kai Wen",
         "Shu Fen", "Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Chen", "Yan"),
        ("Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Kim", "Park",
         "Choi", "Zhang", "Liu"),
    ),
    "south_east_asia": (
        ("Nurul", "Ahmad", "Siti", "Hafiz", "Farah", "Irfan", "Linh", "Minh", "Thu", "Quang", "Maria",
         "Jose", "Angelica", "Paolo", "Putri", "Budi"),
        ("Abdullah", "Ismail", "Yusof", "Osman", "Hamid", "Nguyen", "Tran", "Pham", "Le", "Reyes",
         "Cruz", "Bautista", "Santoso", "Wijaya", "Hidayat", "Dela Cruz"),
    ),
    "japanese": (
        ("Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura", "Kaito", "Mei", "Riku",
         "Yuna", "Hiroshi", "Akiko", "Takeshi", "Naoko"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
         "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Matsumoto", "Inoue", "Kimura"),
    ),
}  # fmt: skip
POOLS = tuple(NAMES)
